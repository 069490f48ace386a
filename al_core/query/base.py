"""The query-strategy protocol: validate the request once, then let the strategy choose.

A strategy holds its hyperparameters (constructor) and receives data in the call. Most
strategies only define ``score`` (one informativeness score per candidate, higher = ask first);
the shared :meth:`QueryStrategy.select` then takes the top ``n`` with seeded random tie-breaks.
Batch-aware strategies (coresets, clustering, BADGE, ...) override ``select`` and choose the
whole batch themselves. :meth:`QueryStrategy.query` validates the request in linear time (no
sort of the candidate set) and checks what ``select`` returned, so every strategy gets the same
guarantees: ``min(n, len(candidates))`` distinct candidates, never a labelled or ignored item.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from al_core.features import Features, num_rows
from al_core.labels import is_multi_label
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, predict_proba_chunked

__all__ = [  # the chunked helpers are re-exported for callers of the old location
    "DEFAULT_CHUNK_SIZE",
    "NEEDS",
    "LabelTypeError",
    "QueryResult",
    "QueryStrategy",
    "StrategyRequirementError",
    "check_candidates",
    "predict_proba_chunked",
    "top_n",
]

#: Every value ``QueryStrategy.needs`` may hold, with the classifier method it requires
#: (``index`` needs no classifier method: the strategy builds a vector index itself).
NEEDS: dict[str, str | None] = {
    "probabilities": "predict_proba",
    "embeddings": "embed",
    "mc-dropout": "predict_proba_mc",
    "gradients": "gradient_norms",
    "index": None,
}


class StrategyRequirementError(TypeError):
    """The classifier lacks something the strategy needs (e.g. ``predict_proba``)."""


class LabelTypeError(TypeError):
    """The strategy does not support the task's label type (single- or multi-label)."""


@dataclass(frozen=True)
class QueryResult:
    """The selected pool indices, best (or first picked) first, and their scores."""

    indices: np.ndarray
    scores: np.ndarray


class QueryStrategy(ABC):
    """Base class of every query strategy.

    Subclasses set ``name``, ``description``, ``needs`` (keys of :data:`NEEDS`) and
    ``label_types``, and implement either :meth:`score` (score-based strategies) or
    :meth:`select` (batch-aware strategies, which also set ``batch_aware = True``).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    needs: tuple[str, ...] = ()  # a wrapper widens it per instance with its base's needs
    label_types: ClassVar[tuple[str, ...]] = ("single",)
    batch_aware: ClassVar[bool] = False

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
        raise NotImplementedError(f"{self.name} chooses whole batches and has no per-item score")

    def select(
        self,
        clf: Any,
        X: Features,
        candidates: np.ndarray,
        indices_labeled: np.ndarray,
        y: np.ndarray,
        n: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions into ``candidates`` of the ``n`` items to ask (best first) and their scores.

        ``1 <= n <= len(candidates)``. The default takes the top ``n`` of :meth:`score`.
        """
        scores = np.asarray(self.score(clf, X, candidates, indices_labeled, y, rng))
        if scores.shape != candidates.shape:
            raise RuntimeError(f"{self.name}: score() returned shape {scores.shape}")
        order = top_n(scores, n, rng)
        return order, scores[order].astype(np.float64)

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
        candidates = np.asarray(indices_unlabeled, dtype=np.int64).reshape(-1)
        indices_labeled = np.asarray(indices_labeled, dtype=np.int64).reshape(-1)
        self.check_compatible(clf, y)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        check_candidates(candidates, indices_labeled, num_rows(X))
        if len(np.asarray(y)) != len(indices_labeled):
            raise ValueError(
                f"y has {len(np.asarray(y))} rows but indices_labeled has {len(indices_labeled)}"
            )
        rng = np.random.default_rng(seed)
        n = min(int(n), len(candidates))
        if n == 0:
            return QueryResult(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        try:
            positions, scores = self.select(clf, X, candidates, indices_labeled, y, n, rng)
        except ValueError as err:  # name the strategy in errors about the classifier's output
            if self.name in str(err):
                raise
            raise ValueError(f"{self.name}: {err}") from err
        positions = np.asarray(positions, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        if positions.shape != (n,) or scores.shape != (n,):
            raise RuntimeError(f"{self.name}: selected {positions.shape[0]} items, expected {n}")
        if positions.min() < 0 or positions.max() >= len(candidates):
            raise RuntimeError(f"{self.name}: selected a position outside the candidates")
        if len(np.unique(positions)) != n:  # n is a batch, not the pool: this sort is cheap
            raise RuntimeError(f"{self.name}: selected the same candidate twice")
        return QueryResult(candidates[positions], scores)

    def check_compatible(self, clf: Any, y: np.ndarray) -> None:
        """Raise a clear error if this strategy cannot work with ``clf`` or label type of ``y``."""
        label_type = "multi" if is_multi_label(y) else "single"
        if label_type not in self.label_types:
            raise LabelTypeError(
                f"strategy {self.name!r} supports {'/'.join(self.label_types)}-label tasks, "
                f"not {label_type}-label"
            )
        for need in self.needs:
            attr = NEEDS[need]
            if attr and not callable(getattr(clf, attr, None)):
                raise StrategyRequirementError(
                    f"strategy {self.name!r} needs {need}: classifier "
                    f"{type(clf).__name__} has no {attr}()"
                )

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.startswith("_") and k not in ("needs", "label_types")
        )
        return f"{type(self).__name__}({params})"


def check_candidates(candidates: np.ndarray, labeled: np.ndarray, n_pool: int) -> None:
    """Candidates lie in the pool, are distinct and disjoint from ``labeled``: O(n_pool), no sort."""
    if not len(candidates):
        return
    if candidates.min() < 0 or candidates.max() >= n_pool:
        raise IndexError("indices_unlabeled points outside the pool")
    seen = np.zeros(n_pool, dtype=np.bool_)
    seen[candidates] = True
    if np.count_nonzero(seen) != len(candidates):
        raise ValueError("indices_unlabeled contains duplicates")
    if len(labeled):
        if labeled.min() < 0 or labeled.max() >= n_pool:
            raise IndexError("indices_labeled points outside the pool")
        if seen[labeled].any():
            raise ValueError("indices_unlabeled and indices_labeled overlap")


def top_n(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the ``n`` highest ``scores``, best first; ties broken at random under ``rng``.

    Scores equal up to float noise (12 decimals) count as ties; NaN ranks last. Linear time: a
    partial selection finds the threshold score, only the tied items at the threshold are drawn
    at random, and only the ``n`` chosen are sorted.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keys = np.round(scores, 12)
    keys[np.isnan(keys)] = -np.inf
    total = len(keys)
    n = min(int(n), total)
    if n < total:
        threshold = keys[np.argpartition(-keys, n - 1)[n - 1]]
        above = np.flatnonzero(keys > threshold)
        tied = np.flatnonzero(keys == threshold)
        needed = n - len(above)
        if needed < len(tied):
            tied = np.sort(rng.choice(tied, size=needed, replace=False))
        chosen = np.concatenate([above, tied])
    else:
        chosen = np.arange(total)
    order = np.lexsort((rng.random(len(chosen)), -keys[chosen]))
    return chosen[order]
