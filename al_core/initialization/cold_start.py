"""Cold-start initialization from embeddings alone: k-means centres and TypiClust.

Neither needs a label or a model: both read the items' embeddings (``needs_embeddings``),
L2-normalised here, and pick points that represent the pool.
"""

from __future__ import annotations

import numpy as np

from al_core.initialization.base import Initializer, check_embeddings
from al_core.initialization.random import check_sizes
from al_core.query.geometry import closest_per_cluster, kmeans, prepare_embeddings
from al_core.query.neighbours import typiclust_select


class EmbeddingKMeansInitializer(Initializer):
    """The item nearest each centre of a k-means clustering into ``n`` clusters.

    Yuan, Lin & Boyd-Graber (2020), "Cold-start active learning through self-supervised
    language modeling", EMNLP. Centres are fitted on at most ``max_fit`` items (seeded).
    """

    name = "embedding-kmeans"
    description = "Label the items nearest the centres of n k-means clusters of the embeddings."
    needs_embeddings = True

    def __init__(self, max_fit: int = 50_000) -> None:
        self.max_fit = int(max_fit)

    def select(self, n_pool, n, *, y=None, X=None, seed=None) -> np.ndarray:
        n_pool, n = check_sizes(n_pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        points = prepare_embeddings(np.array(check_embeddings(X, n_pool, self.name)), True)
        rng = np.random.default_rng(seed)
        _, labels, dist = kmeans(points, n, rng, max_fit=self.max_fit)
        picks = closest_per_cluster(labels, dist, n)
        if len(picks) < n:  # fewer distinct points than n: fill at random
            rest = np.setdiff1d(np.arange(n_pool), picks)
            picks = np.concatenate([picks, rng.choice(rest, size=n - len(picks), replace=False)])
        return picks.astype(np.int64)

    def __repr__(self) -> str:
        return f"EmbeddingKMeansInitializer(max_fit={self.max_fit})"


class TypiClustInitializer(Initializer):
    """TypiClust with no labels: the most typical item of each of ``n`` k-means clusters.

    Hacohen, Dekel & Weinshall (2022), "Active learning on a budget: opposite strategies suit
    high and low budgets", ICML (see :class:`al_core.query.TypiClust`).
    """

    name = "typiclust"
    description = "Label the most typical item of each of n k-means clusters (TypiClust)."
    needs_embeddings = True

    def __init__(self, k: int = 20, max_typicality_points: int = 5_000) -> None:
        self.k, self.max_typicality_points = int(k), int(max_typicality_points)

    def select(self, n_pool, n, *, y=None, X=None, seed=None) -> np.ndarray:
        n_pool, n = check_sizes(n_pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        points = prepare_embeddings(np.array(check_embeddings(X, n_pool, self.name)), True)
        picks, _ = typiclust_select(
            points,
            n_pool,
            n,
            np.random.default_rng(seed),
            k=self.k,
            min_cluster_size=1,
            max_typicality_points=self.max_typicality_points,
        )
        return picks.astype(np.int64)

    def __repr__(self) -> str:
        return f"TypiClustInitializer(k={self.k})"
