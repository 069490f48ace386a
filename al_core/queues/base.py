"""The annotation-queue protocol: how a batch leaves alflow and how its labels come back.

Annotation happens outside alflow. A queue takes an :class:`ExportBatch` (the items the query
strategy picked, best first), puts it where annotators work, and later hands back label files
that :func:`al_core.queues.label_files.read_label_file` parses. The pipeline calls
:meth:`AnnotationQueue.mark_imported` only after a file's labels are stored, so a crash between
reading and storing re-imports the file instead of losing it.
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
    ``None`` when there is no model yet.
    """

    id: str
    text: str
    score: float | None
    rank: int
    predicted: list[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError(f"an export item needs a non-empty string id, got {self.id!r}")
        if self.score is not None and not math.isfinite(float(self.score)):
            # Label Studio rejects NaN/inf in JSON; "no score" is spelled None.
            object.__setattr__(self, "score", None)


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


class AnnotationQueue(ABC):
    """Where batches go to be annotated and where their label files come back from."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def export_batch(self, batch: ExportBatch) -> str:
        """Send ``batch`` to the annotators; return where it went (a path or URL).

        Exporting the same batch twice with the same content must be a no-op; a different
        content under an existing batch id must raise, so an exported batch never changes.
        """

    @abstractmethod
    def pull_label_files(self) -> list[Path]:
        """Label files waiting to be imported, oldest first."""

    @abstractmethod
    def mark_imported(self, path: Path) -> Path | None:
        """Record that the labels of ``path`` are stored, so it is not pulled again.

        Returns where the file was kept, if the queue keeps it.
        """

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """A JSON-serializable summary for ``alflow status``."""
