"""The query-strategy protocol: strategies compute scores, the shared base ranks and selects.

A strategy holds its hyperparameters (constructor) and receives data in the call. ``score``
returns one informativeness score per candidate (higher = ask first); :meth:`QueryStrategy.query`
validates the request, scores, and selects the top ``n``, breaking ties at random under the
seed. Keeping scores apart from selection lets a pipeline store every score it computed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from al_core.features import Features, num_rows, take_rows
from al_core.labels import is_multi_label

DEFAULT_CHUNK_SIZE = 8192


class StrategyRequirementError(TypeError):
    """The classifier lacks something the strategy needs (e.g. ``predict_proba``)."""


class LabelTypeError(TypeError):
    """The strategy does not support the task's label type (single- or multi-label)."""


@dataclass(frozen=True)
class QueryResult:
    """The selected pool indices, best first, and their scores."""

    indices: np.ndarray
    scores: np.ndarray


# What each entry of ``QueryStrategy.needs`` requires of the classifier.
_NEEDS = {"probabilities": "predict_proba", "embeddings": "embed"}


class QueryStrategy(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    label_types: ClassVar[tuple[str, ...]] = ("single",)

    @abstractmethod
    def score(
        self,
        clf: Any,
        X: Features,
        candidates: np.ndarray,
        indices_labeled: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """One score per entry of ``candidates`` (pool indices); higher means query first."""

    def query(
        self,
        clf: Any,
        X: Features,
        indices_unlabeled: np.ndarray,
        indices_labeled: np.ndarray,
        y: np.ndarray,
        n: int,
        *,
        seed: int | None = None,
    ) -> QueryResult:
        """Select ``min(n, len(indices_unlabeled))`` distinct indices from ``indices_unlabeled``.

        ``y`` holds the labels of ``indices_labeled`` (same order). Items in neither array
        (ignored, pending) are never returned.
        """
        candidates = np.asarray(indices_unlabeled, dtype=np.int64)
        indices_labeled = np.asarray(indices_labeled, dtype=np.int64)
        self.check_compatible(clf, y)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if len(np.unique(candidates)) != len(candidates):
            raise ValueError("indices_unlabeled contains duplicates")
        if len(candidates) and (candidates.min() < 0 or candidates.max() >= num_rows(X)):
            raise IndexError("indices_unlabeled points outside the pool")
        if len(np.asarray(y)) != len(indices_labeled):
            raise ValueError(
                f"y has {len(np.asarray(y))} rows but indices_labeled has {len(indices_labeled)}"
            )
        if np.intersect1d(candidates, indices_labeled).size:
            raise ValueError("indices_unlabeled and indices_labeled overlap")
        rng = np.random.default_rng(seed)
        n = min(int(n), len(candidates))
        if n == 0:
            return QueryResult(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        scores = np.asarray(
            self.score(clf, X, candidates, indices_labeled, y, rng), dtype=np.float64
        )
        if scores.shape != candidates.shape:
            raise RuntimeError(f"{self.name}: score() returned shape {scores.shape}")
        order = select_top(scores, n, rng)
        return QueryResult(candidates[order], scores[order])

    def check_compatible(self, clf: Any, y: np.ndarray) -> None:
        """Raise a clear error if this strategy cannot work with ``clf`` or label type of ``y``."""
        label_type = "multi" if is_multi_label(y) else "single"
        if label_type not in self.label_types:
            raise LabelTypeError(
                f"strategy {self.name!r} supports {'/'.join(self.label_types)}-label tasks, "
                f"not {label_type}-label"
            )
        for need in self.needs:
            attr = _NEEDS.get(need)
            if attr and not callable(getattr(clf, attr, None)):
                raise StrategyRequirementError(
                    f"strategy {self.name!r} needs {need}: classifier "
                    f"{type(clf).__name__} has no {attr}()"
                )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def select_top(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``n`` highest ``scores``, best first.

    Ties (up to float noise, hence the rounding) are broken by a random key per score drawn
    from ``rng``; partitioned scoring (``al_core.pipeline.partitions``) selects through this
    too, so both paths choose the same items for the same seed.
    """
    return np.lexsort((rng.random(len(scores)), -np.round(scores, 12)))[:n]


def predict_proba_chunked(
    clf: Any, X: Features, rows: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> np.ndarray:
    """``clf.predict_proba`` over ``X[rows]`` in chunks, to bound memory on large pools."""
    parts = [
        np.asarray(clf.predict_proba(take_rows(X, rows[i : i + chunk_size])), dtype=np.float64)
        for i in range(0, len(rows), chunk_size)
    ]
    return np.concatenate(parts) if parts else np.empty((0, 0))
