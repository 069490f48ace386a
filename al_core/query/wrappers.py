"""Wrappers that compose with any strategy: they narrow the candidates or split the batch, then
let a base strategy choose.

A wrapper's ``needs`` are its own plus its base's, so the shared requirement check covers
both. The base sees the same classifier, features and labelled data, and a subset of the
candidates; positions it returns are mapped back to the full candidate list.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.indices import make_index
from al_core.labels import is_multi_label
from al_core.query.base import QueryStrategy
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, embed_chunked, predict_proba_chunked


def default_base() -> QueryStrategy:
    from al_core.query.uncertainty import BreakingTies

    return BreakingTies()


class Wrapper(QueryStrategy):
    """Base of the wrappers: holds ``base`` (default breaking-ties) and merges its needs."""

    batch_aware = True

    def __init__(self, base: QueryStrategy | None = None) -> None:
        self.base = base if base is not None else default_base()
        if not isinstance(self.base, QueryStrategy):
            raise TypeError(f"base must be a QueryStrategy, got {type(self.base).__name__}")
        self.needs = tuple(dict.fromkeys(type(self).needs + tuple(self.base.needs)))
        self.label_types = tuple(t for t in type(self).label_types if t in self.base.label_types)

    def run_base(self, clf, X, candidates, positions, indices_labeled, y, n, rng):
        """The base's choice among ``candidates[positions]``, as positions into ``candidates``."""
        n = min(n, len(positions))
        picked, scores = self.base.select(clf, X, candidates[positions], indices_labeled, y, n, rng)
        return positions[np.asarray(picked, dtype=np.int64)], np.asarray(scores, dtype=np.float64)


class RandomSubsampling(Wrapper):
    """Let the base choose among a seeded uniform sample of ``subsample_size`` candidates.

    The subsampling used by small-text's ``SubsamplingQueryStrategy``: it bounds the base's cost
    on large pools at the price of seeing only part of it.
    """

    name = "random-subsampling"
    description = "Run the base strategy on a random subsample of the candidates."
    label_types = ("single", "multi")

    def __init__(self, base: QueryStrategy | None = None, subsample_size: int = 4096) -> None:
        super().__init__(base)
        if int(subsample_size) < 1:
            raise ValueError(f"subsample_size must be >= 1, got {subsample_size}")
        self.subsample_size = int(subsample_size)

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        positions = np.arange(len(candidates))
        if len(positions) > max(self.subsample_size, n):
            size = max(self.subsample_size, n)
            positions = np.sort(rng.choice(len(candidates), size=size, replace=False))
        return self.run_base(clf, X, candidates, positions, indices_labeled, y, n, rng)


class SEALS(Wrapper):
    """SEALS: let the base choose among the nearest unlabelled neighbours of the labelled items.

    Coleman, Chou, Katz-Samuels, Culatana, Bailis, Berg, Nowak, Sumbaly, Zaharia & Yalniz
    (2022), "Similarity search for efficient active learning and search of rare concepts",
    AAAI. The candidate pool is the union of the ``k`` nearest candidates (cosine, through the
    vector index) of every labelled item. When that union has fewer than ``n`` items, the base
    sees every candidate.
    """

    name = "seals"
    description = "SEALS: run the base strategy on the labelled items' nearest neighbours."
    needs = ("embeddings", "index")
    label_types = ("single", "multi")

    def __init__(
        self,
        base: QueryStrategy | None = None,
        k: int = 100,
        index: str = "exact",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(base)
        self.k, self.index, self.chunk_size = int(k), index, int(chunk_size)
        make_index(index, "cosine")

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        positions = np.arange(len(candidates))
        if len(indices_labeled):
            emb = embed_chunked(clf, X, candidates, self.chunk_size)
            index = make_index(self.index, "cosine").build(emb, copy=False)
            del emb
            _, nn = index.search(embed_chunked(clf, X, indices_labeled, self.chunk_size), self.k)
            near = np.unique(nn)
            if len(near) >= n:
                positions = near
        return self.run_base(clf, X, candidates, positions, indices_labeled, y, n, rng)


class AnchorSubsampling(Wrapper):
    """AnchorAL: let the base choose among the candidates most similar to labelled anchors.

    Lesci & Vlachos (2024), "AnchorAL: computationally efficient active learning for large and
    imbalanced datasets", NAACL. Per class (per label for multi-label) up to ``num_anchors``
    labelled items are drawn at random as anchors; each retrieves its ``k`` most similar
    candidates (cosine); the ``subpool_size`` candidates with the highest mean similarity to the
    anchors that retrieved them form the subpool. Without labelled items the base sees all.
    """

    name = "anchor-subsampling"
    description = "AnchorAL: run the base strategy on candidates most similar to class anchors."
    needs = ("embeddings", "index")
    label_types = ("single", "multi")

    def __init__(
        self,
        base: QueryStrategy | None = None,
        num_anchors: int = 10,
        k: int = 50,
        subpool_size: int = 500,
        index: str = "exact",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(base)
        self.num_anchors, self.k, self.subpool_size = int(num_anchors), int(k), int(subpool_size)
        self.index, self.chunk_size = index, int(chunk_size)
        make_index(index, "cosine")

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        positions = np.arange(len(candidates))
        anchors = self.anchors(np.asarray(y), rng)
        if len(anchors):
            index = make_index(self.index, "cosine").build(
                embed_chunked(clf, X, candidates, self.chunk_size), copy=False
            )
            dist, nn = index.search(
                embed_chunked(clf, X, indices_labeled[anchors], self.chunk_size), self.k
            )
            sim_sum = np.bincount(nn.ravel(), weights=1.0 - dist.ravel(), minlength=len(candidates))
            hits = np.bincount(nn.ravel(), minlength=len(candidates))
            retrieved = np.flatnonzero(hits)
            mean_sim = sim_sum[retrieved] / hits[retrieved]
            keep = max(self.subpool_size, n)
            if len(retrieved) > keep:
                retrieved = np.sort(retrieved[np.argsort(-mean_sim, kind="stable")[:keep]])
            if len(retrieved) >= n:
                positions = retrieved
        return self.run_base(clf, X, candidates, positions, indices_labeled, y, n, rng)

    def anchors(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Positions in ``y`` of up to ``num_anchors`` random labelled items per class."""
        if len(y) == 0:
            return np.empty(0, dtype=np.int64)
        groups = (
            [np.flatnonzero(col) for col in y.T]
            if is_multi_label(y)
            else [np.flatnonzero(y == c) for c in np.unique(y)]
        )
        chosen = [
            rng.choice(g, size=min(self.num_anchors, len(g)), replace=False)
            for g in groups
            if len(g)
        ]
        return np.unique(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)


class ClassBalancer(Wrapper):
    """Spread the batch over predicted classes so the labelled set moves towards balance.

    After small-text 2.0's ``ClassBalancer``: candidates are partitioned by predicted class;
    the batch is allotted one item at a time to the class with the fewest labelled-plus-allotted
    items that still has candidates (random among ties); the base strategy then chooses each
    class's share within its partition.
    """

    name = "class-balancer"
    description = (
        "Split the batch over predicted classes to balance labels; base chooses within each."
    )
    needs = ("probabilities",)
    label_types = ("single",)

    def __init__(
        self, base: QueryStrategy | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        super().__init__(base)
        self.chunk_size = int(chunk_size)

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        predicted = predict_proba_chunked(clf, X, candidates, self.chunk_size).argmax(axis=1)
        num_classes = int(max(predicted.max(), np.max(y, initial=-1)) + 1)
        quotas = balanced_quotas(
            np.bincount(np.asarray(y, dtype=np.int64), minlength=num_classes),
            np.bincount(predicted, minlength=num_classes),
            n,
            rng,
        )
        picks: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for c in np.flatnonzero(quotas):
            p, s = self.run_base(
                clf,
                X,
                candidates,
                np.flatnonzero(predicted == c),
                indices_labeled,
                y,
                int(quotas[c]),
                rng,
            )
            picks.append(p)
            scores.append(s)
        return interleave(picks), interleave(scores)


def balanced_quotas(
    labeled_counts: np.ndarray, available: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Give ``n`` slots one at a time to the class with the lowest labelled + given count."""
    counts = labeled_counts.astype(np.int64).copy()
    quotas = np.zeros_like(counts)
    for _ in range(n):
        open_ = quotas < available
        key = np.where(open_, counts, np.iinfo(np.int64).max)
        c = int(rng.choice(np.flatnonzero(key == key.min())))
        quotas[c] += 1
        counts[c] += 1
    return quotas


def interleave(parts: list[Any]) -> np.ndarray:
    """Round-robin merge (first of each part, then second of each, ...)."""
    if not parts:
        return np.empty(0)
    width = max(len(p) for p in parts)
    rows = [np.asarray(p)[i] for i in range(width) for p in parts if i < len(p)]
    return np.asarray(rows)
