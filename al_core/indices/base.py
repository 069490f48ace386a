"""The vector-index protocol: k nearest neighbours of query vectors among indexed vectors.

Neighbour-based query strategies (CAL, ProbCover, SEALS, AnchorAL, TypiClust) build their
neighbour lists through this protocol, so an exact index (default) and an approximate one
(optional extra) are interchangeable. Distances: ``"cosine"`` is ``1 - cos(a, b)`` (vectors
are L2-normalised when added and when queried), ``"sqeuclidean"`` is ``||a - b||^2``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

METRICS = ("cosine", "sqeuclidean")


class VectorIndex(ABC):
    """Build once over ``(n, d)`` vectors, then :meth:`search` returns ids in ``[0, n)``."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, metric: str = "cosine") -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        self.metric = metric
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @abstractmethod
    def build(self, vectors: np.ndarray, *, copy: bool = True) -> Self:
        """Index ``vectors`` (rows); replaces anything indexed before.

        ``copy=False`` lets the index keep (and, for cosine, normalise in place) a float32
        array the caller hands over, saving a copy of a large matrix.
        """

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(distances, ids)``, each ``(len(queries), min(k, len(self)))``, nearest first."""

    def _prepare(self, vectors: np.ndarray, what: str, copy: bool = True) -> np.ndarray:
        arr = np.ascontiguousarray(vectors, dtype=np.float32)
        if arr.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{what} contain non-finite values")
        if self.metric == "cosine":
            arr = normalize_rows(arr, inplace=not copy or arr is not vectors)
        return arr

    def _check_k(self, k: int) -> int:
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if self.size == 0:
            raise ValueError("the index is empty: build it on at least one vector first")
        return min(int(k), self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(metric={self.metric!r}, size={self.size})"


def normalize_rows(arr: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float32.

    ``inplace=True`` scales a float32 ``arr`` itself (no copy of a large matrix).
    """
    out = arr if inplace and arr.dtype == np.float32 else np.array(arr, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", out, out))
    out /= np.where(norms > 0, norms, 1.0)[:, None]
    return out
