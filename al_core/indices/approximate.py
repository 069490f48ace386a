"""Approximate neighbours with a faiss HNSW graph (the optional ``index`` extra: faiss-cpu).

Chosen by measurement on 100,000 x 384 unit vectors, 2 cores (``benchmarks/query_indices.py``):
faiss HNSW (M=16) built in about a seventh of usearch's time at the same graph size with
recall@10 about 0.96, and hnswlib has no wheel for this Python (it must be compiled). Build
cost grows with ``n log n``, so an approximate index pays off when many queries run against
one large set (ProbCover, SEALS on large pools); for a few hundred queries the exact index is
faster.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from al_core.indices.base import VectorIndex


class HNSWIndex(VectorIndex):
    """faiss ``IndexHNSWFlat``: ``M`` links per node, ``ef_construction`` / ``ef_search`` beams."""

    name = "hnsw"
    description = "Approximate neighbours with a faiss HNSW graph (needs the 'index' extra)."

    def __init__(
        self, metric: str = "cosine", M: int = 16, ef_construction: int = 40, ef_search: int = 64
    ) -> None:
        super().__init__(metric)
        self.M, self.ef_construction, self.ef_search = int(M), int(ef_construction), int(ef_search)
        self._index = None

    def build(self, vectors: np.ndarray, *, copy: bool = True) -> Self:
        try:
            import faiss
        except ImportError as err:
            raise ImportError(
                "the 'hnsw' index needs faiss-cpu: pip install 'alflow[index]'"
            ) from err
        arr = self._prepare(vectors, "vectors", copy=copy)
        metric = faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2
        index = faiss.IndexHNSWFlat(arr.shape[1], self.M, metric)
        index.hnsw.efConstruction = self.ef_construction
        index.add(arr)
        self._index, self.size = index, len(arr)
        return self

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = self._check_k(k)
        q = self._prepare(queries, "queries")
        self._index.hnsw.efSearch = max(self.ef_search, k)
        dist, ids = self._index.search(q, k)
        if self.metric == "cosine":
            dist = 1.0 - dist
        # HNSW may return fewer than k hits (id -1): mark them as infinitely far
        missing = ids < 0
        dist = np.where(missing, np.inf, np.maximum(dist, 0.0)).astype(np.float32)
        return dist, np.where(missing, 0, ids).astype(np.int64)
