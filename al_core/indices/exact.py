"""Exact k-nearest-neighbour search by blocked matrix products (NumPy only).

Queries are processed in blocks sized so that one block's distance matrix holds at most
``max_block_entries`` floats (32 MiB, plus 64 MiB of candidate ids, by default): memory stays bounded whatever the sizes,
and no ``n x n`` matrix is ever built. Within a block, ``argpartition`` picks the ``k``
nearest and only those are sorted.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from al_core.indices.base import VectorIndex


class ExactIndex(VectorIndex):
    """Brute-force neighbours: exact, no extra dependency; ``O(m * n * d)`` per search."""

    name = "exact"
    description = "Exact neighbours by blocked NumPy matrix products (default)."

    def __init__(self, metric: str = "cosine", max_block_entries: int = 1 << 23) -> None:
        super().__init__(metric)
        self.max_block_entries = int(max_block_entries)
        self._vectors = np.empty((0, 0), dtype=np.float32)
        self._sq_norms = np.empty(0, dtype=np.float32)

    def build(self, vectors: np.ndarray, *, copy: bool = True) -> Self:
        self._vectors = self._prepare(vectors, "vectors", copy=copy)
        self._sq_norms = np.einsum("ij,ij->i", self._vectors, self._vectors)
        self.size = len(self._vectors)
        return self

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = self._check_k(k)
        q = self._prepare(queries, "queries")
        if q.shape[1] != self._vectors.shape[1]:
            raise ValueError(
                f"queries have {q.shape[1]} dimensions, the index has {self._vectors.shape[1]}"
            )
        dist = np.empty((len(q), k), dtype=np.float32)
        ids = np.empty((len(q), k), dtype=np.int64)
        block = max(1, self.max_block_entries // self.size)
        for start in range(0, len(q), block):
            stop = min(start + block, len(q))
            d = self._distances(q[start:stop])
            if k < self.size:
                part = np.argpartition(d, k - 1, axis=1)[:, :k]
            else:
                part = np.broadcast_to(np.arange(self.size), d.shape)
            dk = np.take_along_axis(d, part, axis=1)
            order = np.argsort(dk, axis=1, kind="stable")
            dist[start:stop] = np.take_along_axis(dk, order, axis=1)
            ids[start:stop] = np.take_along_axis(part, order, axis=1)
        return dist, ids

    def _distances(self, q: np.ndarray) -> np.ndarray:
        dots = q @ self._vectors.T
        if self.metric == "cosine":
            np.subtract(1.0, dots, out=dots)
        else:
            dots *= -2.0
            dots += self._sq_norms[None, :]
            dots += np.einsum("ij,ij->i", q, q)[:, None]
        np.maximum(dots, 0.0, out=dots)  # rounding can make a self-distance slightly negative
        return dots
