"""The annotation-queue protocol: how a batch leaves alflow and how its labels come back.

Annotation happens outside alflow. A queue takes an :class:`ExportBatch` (the items the query
strategy picked, best first), puts it where annotators work, and later hands back what they
answered as :class:`LabelDelivery` objects: a label file to parse
(:func:`al_core.queues.label_files.read_label_file`) or rows already parsed (a server's
annotations). The pipeline calls :meth:`AnnotationQueue.confirm` only after a delivery's labels
are stored, so a crash between reading and storing fetches it again instead of losing it (the
label import recognises annotations it has stored, so nothing is counted twice).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class ExportItem:
    """One item to annotate: our id, its text, the strategy's score and rank (1 = ask first).

    ``predicted`` holds the current model's label(s), shown to annotators as a pre-annotation;
    ``None`` when there is no model yet. ``confidence`` is the model's confidence in that
    prediction (Label Studio sorts and filters tasks on a prediction's score); ``score`` is the
    query strategy's score (why the item was asked), kept in the task's metadata. ``note`` is
    shown to annotators beside the text (a review batch lists the annotators' votes there).
    """

    id: str
    text: str
    score: float | None
    rank: int
    predicted: list[str] | None = None
    confidence: float | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError(f"an export item needs a non-empty string id, got {self.id!r}")
        for name in ("score", "confidence"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(float(value)):
                # Label Studio rejects NaN/inf in JSON; "no score" is spelled None.
                object.__setattr__(self, name, None)


REVIEW_PREFIX = "review-"  # batch ids of review batches (disagreed items sent back)


@dataclass(frozen=True)
class ExportBatch:
    """The items of one active-learning iteration, sent to the annotation queue together."""

    batch_id: str
    iteration: int
    model_version: str | None
    items: list[ExportItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.batch_id, str) or not self.batch_id.strip():
            raise ValueError(f"a batch needs a non-empty string batch_id, got {self.batch_id!r}")
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"batch {self.batch_id!r} lists item {item.id!r} twice")
            seen.add(item.id)


@dataclass(frozen=True)
class LabelDelivery:
    """Annotations a queue hands back: a label file (``path``) or parsed ``rows``.

    ``origin`` names where they came from (a path, a URL) in reports and the quarantine;
    ``source`` is the label events' source tag; ``receipt`` is whatever the queue needs in
    :meth:`AnnotationQueue.confirm` (a file to move, a position to remember).
    """

    origin: str
    path: Path | None = None
    rows: Any = None  # a LabelRows table (al_core.queues.label_files)
    source: str = "queue"
    receipt: Any = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.rows is None):
            raise ValueError("a label delivery carries either a path or rows, not both")


class AnnotationQueue(ABC):
    """Where batches go to be annotated and where their labels come back from."""

    name: ClassVar[str]
    description: ClassVar[str]
    source: ClassVar[str] = "queue"  # the source tag of the label events this queue delivers

    @abstractmethod
    def export_batch(self, batch: ExportBatch) -> str:
        """Send ``batch`` to the annotators; return where it went (a path or URL).

        Exporting the same batch twice with the same content must be a no-op (a queue that
        failed half-way sends what is missing); a different content under an existing batch
        id must raise, so an exported batch never changes.
        """

    @abstractmethod
    def read_batch(self, batch_id: str) -> list[dict[str, Any]] | None:
        """The Label Studio tasks exported as ``batch_id`` (None when it was not exported)."""

    @abstractmethod
    def pull_labels(self) -> list[LabelDelivery]:
        """Annotations waiting to be imported, oldest first."""

    @abstractmethod
    def confirm(self, delivery: LabelDelivery) -> None:
        """Record that the labels of ``delivery`` are stored, so it is not pulled again."""

    @abstractmethod
    def refuse(self, delivery: LabelDelivery, reason: str) -> None:
        """Record that ``delivery`` cannot be read at all (kept aside with the reason)."""

    @abstractmethod
    def withdraw(self, ids: list[str], reason: str) -> list[str]:
        """Take the items ``ids`` back from the annotators where nobody has answered them yet.

        Returns the ids withdrawn now. Withdrawing an item twice does nothing the second time.
        """

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """A JSON-serializable summary for ``alflow status``."""
