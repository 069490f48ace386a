"""The label set of a task and the encoding of labels as arrays.

Single-label targets are a 1-D ``int64`` array of class indices (``-1`` marks "no label" in the
learner's full-pool arrays). Multi-label targets are a 2-D ``int8`` indicator matrix of shape
``(n, num_classes)``. Every classifier, strategy and criterion in ``al_core`` uses this encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

UNLABELED = -1


class UnknownLabelError(ValueError):
    """A label that is not in the task's label set."""


class LabelSet:
    """An ordered set of label names; column ``i`` of every probability matrix is ``names[i]``."""

    def __init__(self, names: Sequence[str], multi_label: bool = False) -> None:
        cleaned = [str(n).strip() for n in names]
        if not cleaned or any(not n for n in cleaned):
            raise ValueError("a label set needs at least one non-empty label name")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError(f"duplicate label names in {cleaned}")
        self.names: tuple[str, ...] = tuple(cleaned)
        self.multi_label = bool(multi_label)
        self._index = {n: i for i, n in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def __repr__(self) -> str:
        kind = "multi" if self.multi_label else "single"
        return f"LabelSet({list(self.names)!r}, {kind}-label)"

    def index(self, label: str) -> int:
        try:
            return self._index[label]
        except KeyError:
            raise UnknownLabelError(
                f"unknown label {label!r}; the label set is {', '.join(self.names)}"
            ) from None

    def encode(self, values: Iterable[str | Sequence[str]]) -> np.ndarray:
        """Encode label names (single) or label lists (multi) into the array form above."""
        values = list(values)
        if not self.multi_label:
            out = np.empty(len(values), dtype=np.int64)
            for i, v in enumerate(values):
                if not isinstance(v, str):
                    if len(v) != 1:
                        raise ValueError(f"single-label task got {len(v)} labels: {list(v)!r}")
                    v = v[0]
                out[i] = self.index(v)
            return out
        out = np.zeros((len(values), len(self.names)), dtype=np.int8)
        for i, v in enumerate(values):
            for label in [v] if isinstance(v, str) else v:
                out[i, self.index(label)] = 1
        return out

    def decode(self, y: np.ndarray) -> list[str] | list[list[str]]:
        """Inverse of :meth:`encode`."""
        y = np.asarray(y)
        if not self.multi_label:
            return [self.names[int(i)] for i in y]
        return [[self.names[j] for j in np.flatnonzero(row)] for row in y]


def is_multi_label(y: np.ndarray) -> bool:
    """True when ``y`` is a multi-label indicator matrix rather than a vector of indices."""
    return np.asarray(y).ndim == 2


def label_problem(labels: Sequence[str] | None, label_set: LabelSet) -> str | None:
    """Why ``labels`` cannot be stored for ``label_set`` (None when they can, or are absent)."""
    if labels is None:
        return None
    unknown = [lab for lab in labels if lab not in label_set]
    if unknown:
        return (
            f"unknown label{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} (label set: {', '.join(label_set.names)})"
        )
    if not label_set.multi_label and len(labels) > 1:
        return f"{len(labels)} labels for a single-label task: {', '.join(labels)}"
    return None
