"""Strategies that look at embedding-space neighbourhoods: CAL, ProbCover and TypiClust.

Neighbour lists come from :mod:`al_core.indices` (``index="exact"`` by default, or an
approximate index from the ``index`` extra), never from an ``n x n`` distance matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from al_core.indices import make_index
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, predict_proba_chunked
from al_core.query.embedding import EmbeddingStrategy
from al_core.query.geometry import kmeans


class ContrastiveActiveLearning(EmbeddingStrategy):
    """CAL: ask candidates whose predictions differ most from their labelled neighbours'.

    Margatina, Vernikos, Barrault & Aletras (2021), "Active learning by acquiring contrastive
    examples", EMNLP: ``s(x) = 1/k * sum_{l in kNN_L(x)} KL(p(.|x_l) || p(.|x))`` over the ``k``
    labelled items nearest ``x`` in embedding space, both distributions from the current model.
    """

    name = "contrastive-active-learning"
    description = "CAL: ask items whose predictions diverge most from their labelled neighbours'."
    needs = ("probabilities", "embeddings", "index")
    label_types = ("single",)

    def __init__(
        self,
        k: int = 10,
        index: str = "exact",
        metric: str = "cosine",
        eps: float = 1e-12,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(normalize=False, chunk_size=chunk_size)
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k, self.index, self.metric, self.eps = int(k), index, metric, float(eps)
        make_index(index, metric)  # unknown names fail at construction

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        if len(indices_labeled) == 0:
            raise ValueError("CAL needs at least one labelled item (its neighbours are labelled)")
        p_lab = predict_proba_chunked(clf, X, indices_labeled, self.chunk_size).astype(np.float64)
        index = make_index(self.index, self.metric).build(
            self.embeddings(clf, X, indices_labeled), copy=False
        )
        scores = np.empty(len(candidates), dtype=np.float64)
        log_lab = np.log(np.maximum(p_lab, self.eps))
        neg_ent_lab = (p_lab * log_lab).sum(axis=1)  # sum p_l log p_l per labelled item
        for start in range(0, len(candidates), self.chunk_size):
            rows = candidates[start : start + self.chunk_size]
            _, nn = index.search(self.embeddings(clf, X, rows), self.k)
            p = predict_proba_chunked(clf, X, rows, self.chunk_size).astype(np.float64)
            log_p = np.log(np.maximum(p, self.eps))
            # KL(p_l || p_x) = sum p_l log p_l - sum p_l log p_x, averaged over the neighbours
            cross = np.einsum("ikc,ic->ik", p_lab[nn], log_p)
            scores[start : start + len(rows)] = (neg_ent_lab[nn] - cross).mean(axis=1)
        return scores


class ProbCover(EmbeddingStrategy):
    """ProbCover: greedy max coverage of delta-balls in embedding space.

    Yehuda, Dekel, Hacohen & Weinshall (2022), "Active learning through a covering lens",
    NeurIPS. Each candidate's ball holds the points within ``delta`` (cosine distance); points in
    a labelled item's ball are covered. Repeatedly ask the candidate whose ball holds the most
    uncovered points, then mark them covered. ``delta=None`` picks it as in the paper: the
    largest radius whose balls are ``purity`` pure w.r.t. k-means pseudo-labels (``n_clusters``,
    default the number of classes in ``y``).

    Bounds (deviations, for large pools): balls are cut at the ``k`` nearest neighbours, and
    when there are more than ``max_candidates`` candidates a seeded uniform subsample of that
    size is covered instead of the whole pool.
    """

    name = "prob-cover"
    description = "ProbCover: ask the items whose delta-ball covers most uncovered points."
    needs = ("embeddings", "index")
    batch_aware = True

    def __init__(
        self,
        delta: float | None = None,
        purity: float = 0.95,
        n_clusters: int | None = None,
        k: int = 50,
        max_candidates: int = 20_000,
        index: str = "exact",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(normalize=True, chunk_size=chunk_size)
        if delta is not None and delta <= 0:
            raise ValueError(f"delta must be positive, got {delta}")
        if not 0 < purity <= 1:
            raise ValueError(f"purity must be in (0, 1], got {purity}")
        self.delta, self.purity, self.n_clusters = delta, float(purity), n_clusters
        self.k, self.max_candidates, self.index = int(k), int(max_candidates), index
        make_index(index, "cosine")

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        pos = np.arange(len(candidates))
        if len(pos) > self.max_candidates:
            pos = np.sort(rng.choice(len(pos), size=self.max_candidates, replace=False))
        m = len(pos)
        points = self.embeddings(clf, X, np.concatenate([candidates[pos], indices_labeled]))
        index = make_index(self.index, "cosine").build(points, copy=False)
        dist, nn = index.search(points, min(self.k + 1, len(points)))
        delta = (
            self.delta if self.delta is not None else self.choose_delta(points, nn, dist, y, rng)
        )
        # ball(i) = {j : dist(i, j) < delta}; only candidate points (ids < m) need covering
        inside = (dist < delta) & (nn < m)
        rows = np.repeat(np.arange(len(points)), inside.sum(axis=1))
        balls = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, nn[inside])), shape=(len(points), m)
        )
        uncovered = np.ones(m, dtype=np.float32)
        if len(indices_labeled):
            uncovered[balls[m:].indices] = 0.0
        candidate_balls = balls[:m]
        picks = np.empty(n, dtype=np.int64)
        scores = np.empty(n, dtype=np.float64)
        taken = np.zeros(m, dtype=bool)
        for t in range(n):
            degree = candidate_balls @ uncovered
            degree[taken] = -1.0
            best = degree.max()
            pick = int(rng.choice(np.flatnonzero(degree == best)))
            picks[t], scores[t] = pick, best
            taken[pick] = True
            uncovered[balls[pick].indices] = 0.0
        return pos[picks], scores

    def choose_delta(self, points, nn, dist, y, rng) -> float:
        """Largest delta with at least ``purity`` of the balls pure under k-means pseudo-labels."""
        k = self.n_clusters or max(2, len(np.unique(y, axis=0)) if len(y) else 2)
        _, labels, _ = kmeans(points, k, rng)
        differs = labels[nn] != labels[:, None]
        # distance to the nearest neighbour of another pseudo-label; where none is among the k
        # neighbours, purity is only known up to the k-th neighbour's distance
        first_other = np.where(differs, dist, np.inf).min(axis=1)
        first_other = np.minimum(first_other, dist[:, -1])
        # a ball of radius delta is pure iff delta <= first_other; keep `purity` of them pure
        return float(max(np.quantile(first_other, 1.0 - self.purity), 1e-6))


class TypiClust(EmbeddingStrategy):
    """TypiClust: the most typical item of each of the largest clusters without labels.

    Hacohen, Dekel & Weinshall (2022), "Active learning on a budget: opposite strategies suit
    high and low budgets", ICML. Cluster labelled + candidates into ``min(|L| + n,
    max_clusters)`` k-means clusters; ``n`` times take the cluster with the fewest labelled (or
    already asked) items, largest first, skipping clusters under ``min_cluster_size``, and ask
    its candidate of highest typicality ``1 / mean distance to its k nearest cluster mates``
    (k = 20). In clusters larger than ``max_typicality_points`` the typicality is estimated on a
    seeded subsample of that size (a bound for large pools). Works without labels (cold start).
    """

    name = "typiclust"
    description = "TypiClust: ask the most typical item of each large cluster without labels."
    needs = ("embeddings", "index")
    batch_aware = True

    def __init__(
        self,
        k: int = 20,
        max_clusters: int = 500,
        min_cluster_size: int = 5,
        max_typicality_points: int = 5_000,
        index: str = "exact",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(normalize=True, chunk_size=chunk_size)
        self.k, self.max_clusters, self.min_cluster_size = (
            int(k),
            int(max_clusters),
            int(min_cluster_size),
        )
        self.max_typicality_points, self.index = int(max_typicality_points), index
        make_index(index, "sqeuclidean")

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        points = self.embeddings(clf, X, np.concatenate([candidates, indices_labeled]))
        return typiclust_select(
            points,
            len(candidates),
            n,
            rng,
            k=self.k,
            max_clusters=self.max_clusters,
            min_cluster_size=self.min_cluster_size,
            max_typicality_points=self.max_typicality_points,
            index=self.index,
        )


def typiclust_select(
    points: np.ndarray,
    n_candidates: int,
    n: int,
    rng: np.random.Generator,
    *,
    k: int = 20,
    max_clusters: int = 500,
    min_cluster_size: int = 5,
    max_typicality_points: int = 5_000,
    index: str = "exact",
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust over ``points`` whose first ``n_candidates`` rows may be picked (the rest are
    labelled). Returns positions among the candidates and their typicality."""
    n_labeled = len(points) - n_candidates
    n_clusters = min(n_labeled + n, max_clusters, len(points))
    _, labels, _ = kmeans(points, n_clusters, rng)
    sizes = np.bincount(labels, minlength=n_clusters)
    covered = np.bincount(labels[n_candidates:], minlength=n_clusters)
    cand_labels = labels[:n_candidates]
    available = np.bincount(cand_labels, minlength=n_clusters)
    picks, scores = [], []
    free = np.zeros(len(points), dtype=bool)
    free[:n_candidates] = True
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for _ in range(n):
        eligible = available > 0
        if (eligible & (sizes >= min_cluster_size)).any():
            eligible &= sizes >= min_cluster_size
        # fewest labelled first, then largest; random among exact ties
        key = np.where(eligible, covered * (len(points) + 1) - sizes, np.iinfo(np.int64).max)
        cluster = int(rng.choice(np.flatnonzero(key == key.min())))
        if cluster not in cache:
            members = np.flatnonzero(labels == cluster)
            cache[cluster] = (
                members,
                typicality(points, members, k, max_typicality_points, index, rng),
            )
        members, typ = cache[cluster]
        typ = np.where(free[members], typ, -np.inf)
        best = members[int(np.argmax(typ))]
        picks.append(best)
        scores.append(float(typ.max()))
        free[best] = False
        covered[cluster] += 1
        available[cluster] -= 1
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)


def typicality(points, members, k, max_points, index, rng) -> np.ndarray:
    """``1 / mean distance to the k nearest other members`` for each member (Euclidean)."""
    if len(members) == 1:
        return np.ones(1)
    ref = members
    if len(members) > max_points:
        ref = np.sort(rng.choice(members, size=max_points, replace=False))
    idx = make_index(index, "sqeuclidean").build(points[ref], copy=False)
    kk = min(k + 1, len(ref))
    dist, nn = idx.search(points[members], kk)
    d = np.sqrt(dist.astype(np.float64))
    # drop each member's own entry, or the farthest one where it is not a reference point
    drop = ref[nn] == members[:, None]
    drop[~drop.any(axis=1), -1] = True
    if kk == 1:  # a single reference point: itself or not, its distance is all there is
        drop[:] = False
    mean = np.where(drop, 0.0, d).sum(axis=1) / np.maximum((~drop).sum(axis=1), 1)
    return 1.0 / (mean + 1e-12)
