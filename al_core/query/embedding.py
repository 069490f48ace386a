"""Diversity strategies on the classifier's embeddings: k-means, greedy and lightweight coresets.

All three read ``clf.embed`` (``needs = ("embeddings",)``) in chunks and work on one float32
embedding matrix of the candidates; distances are computed against a few centres at a time,
never as an ``n x n`` matrix. Embeddings are L2-normalised first unless ``normalize=False``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.features import Features
from al_core.query.base import QueryStrategy
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, embed_chunked
from al_core.query.geometry import (
    closest_per_cluster,
    kmeans,
    nearest_center,
    prepare_embeddings,
    sq_dist_to_point,
)


class EmbeddingStrategy(QueryStrategy):
    """Base: reads (and optionally normalises) embeddings of pool rows in chunks."""

    needs = ("embeddings",)
    label_types = ("single", "multi")

    def __init__(self, normalize: bool = True, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.normalize = bool(normalize)
        self.chunk_size = int(chunk_size)

    def embeddings(self, clf: Any, X: Features, rows: np.ndarray) -> np.ndarray:
        emb = embed_chunked(clf, X, rows, self.chunk_size)
        return prepare_embeddings(emb, self.normalize) if len(rows) else emb


class EmbeddingKMeans(EmbeddingStrategy):
    """k-means with ``n`` clusters over the candidates' embeddings; ask the item nearest each centre.

    Yuan, Lin & Boyd-Graber (2020), "Cold-start active learning through self-supervised language
    modeling", EMNLP (k-means on embeddings, nearest point to each centroid). Centres are fitted
    on at most ``max_fit`` candidates (seeded subsample); the assignment covers all of them.
    Scores are the negative squared distance of each pick to its centre.
    """

    name = "embedding-kmeans"
    description = (
        "Cluster the candidates' embeddings into n groups; ask the item nearest each centre."
    )
    batch_aware = True

    def __init__(
        self, normalize: bool = True, max_fit: int = 50_000, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        super().__init__(normalize, chunk_size)
        self.max_fit = int(max_fit)

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        emb = self.embeddings(clf, X, candidates)
        _, labels, dist = kmeans(emb, n, rng, max_fit=self.max_fit)
        picks = closest_per_cluster(labels, dist, n)
        if len(picks) < n:  # empty clusters (duplicate points): fill at random
            rest = np.setdiff1d(np.arange(len(candidates)), picks)
            picks = np.concatenate([picks, rng.choice(rest, n - len(picks), replace=False)])
        order = np.argsort(dist[picks], kind="stable")
        return picks[order], -dist[picks][order].astype(np.float64)


class GreedyCoreset(EmbeddingStrategy):
    """k-centre greedy: repeatedly ask the candidate farthest from everything labelled or asked.

    Sener & Savarese (2018), "Active learning for convolutional neural networks: a core-set
    approach", ICLR (Algorithm 1). Euclidean distance on the (normalised) embeddings; with no
    labelled item the first pick is random. Exact ties are broken at random under the seed.
    Scores are the distance of each pick to its nearest centre at the time it was picked.
    """

    name = "greedy-coreset"
    description = "k-centre greedy coreset: ask the items farthest from the labelled set."
    batch_aware = True

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        emb = self.embeddings(clf, X, candidates)
        sq_norms = np.einsum("ij,ij->i", emb, emb)
        if len(indices_labeled):
            centers = self.embeddings(clf, X, indices_labeled)
            min_d, _ = nearest_center(emb, centers)
        else:
            min_d = np.full(len(candidates), np.inf, dtype=np.float32)
        picks = np.empty(n, dtype=np.int64)
        scores = np.empty(n, dtype=np.float64)
        for t in range(n):
            best = min_d.max()
            tied = np.flatnonzero(min_d == best)
            pick = int(tied[0] if len(tied) == 1 else rng.choice(tied))
            picks[t], scores[t] = pick, np.sqrt(best) if np.isfinite(best) else np.inf
            np.minimum(min_d, sq_dist_to_point(emb, emb[pick], sq_norms), out=min_d)
            min_d[pick] = -1.0  # never again
        return picks, scores


class LightweightCoreset(EmbeddingStrategy):
    """Sample ``n`` candidates without replacement with the lightweight-coreset probabilities.

    Bachem, Lucic & Krause (2018), "Scalable k-means clustering via lightweight coresets", KDD:
    ``q(x) = 1 / (2N) + d(x, mean)^2 / (2 * sum d^2)``. Weighted sampling without replacement
    is done with Efraimidis & Spirakis (2006) keys: the score ``log(u) / q(x)`` with ``u``
    uniform under the seed, and the top ``n`` keys are exactly such a sample.
    """

    name = "lightweight-coreset"
    description = "Sample items with probability growing with their distance from the data mean."

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        emb = self.embeddings(clf, X, candidates)
        mean = emb.mean(axis=0, dtype=np.float64).astype(np.float32)
        d2 = sq_dist_to_point(emb, mean, np.einsum("ij,ij->i", emb, emb)).astype(np.float64)
        total = float(d2.sum(dtype=np.float64))
        n = len(candidates)
        q = 0.5 / n + (0.5 * d2 / total if total > 0 else 0.5 / n)
        u = rng.random(n)
        return np.log(np.maximum(u, np.finfo(np.float64).tiny)) / q
