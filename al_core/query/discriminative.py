"""Discriminative active learning: ask what a labelled-vs-unlabelled classifier finds most unlabelled.

Gissin & Shalev-Shwartz (2019), "Discriminative active learning", arXiv:1907.06347. A binary
discriminator learns to tell labelled from unlabelled items; the items it is surest are
unlabelled are least like what is labelled. The batch is chosen in ``sub_batches`` rounds,
each retraining the discriminator with the items asked so far counted as labelled. Unlabelled
training rows are a seeded sample of at most ``unlabeled_factor`` times the labelled count (and
at least ``min_unlabeled``), with balanced class weights, which bounds the fit on large pools.

* :class:`DiscriminativeActiveLearning` trains a fresh classifier of the same kind as ``clf``
  (``type(clf)(num_classes=2, seed=...)``) on the input features, as the paper's method on the
  raw input.
* :class:`DiscriminativeRepresentationLearning` trains a logistic-regression discriminator on
  ``clf.embed`` (the paper's preferred variant on the learned representation; small-text 2.0's
  name for it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.features import take_rows
from al_core.query.base import QueryStrategy, top_n
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, embed_chunked, predict_proba_chunked


class _Discriminative(QueryStrategy):
    batch_aware = True
    label_types = ("single", "multi")

    def __init__(
        self,
        sub_batches: int = 10,
        unlabeled_factor: float = 10.0,
        min_unlabeled: int = 1000,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if int(sub_batches) < 1:
            raise ValueError(f"sub_batches must be >= 1, got {sub_batches}")
        self.sub_batches = int(sub_batches)
        self.unlabeled_factor = float(unlabeled_factor)
        self.min_unlabeled = int(min_unlabeled)
        self.chunk_size = int(chunk_size)

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        state = self.prepare(clf, X, candidates, indices_labeled)
        in_labeled = np.zeros(len(candidates), dtype=bool)  # asked so far
        picks, scores = [], []
        sizes = np.diff(np.linspace(0, n, min(self.sub_batches, n) + 1).round().astype(int))
        for size in sizes:
            free = np.flatnonzero(~in_labeled)
            n_unl = int(
                max(self.min_unlabeled, self.unlabeled_factor * (len(indices_labeled) + len(picks)))
            )
            train_unl = free if len(free) <= n_unl else rng.choice(free, size=n_unl, replace=False)
            p_unlabeled = self.fit_and_score(
                state, train_unl, np.flatnonzero(in_labeled), free, rng
            )
            order = free[top_n(p_unlabeled, size, rng)]
            picks.extend(order.tolist())
            scores.extend(p_unlabeled[np.searchsorted(free, order)].tolist())
            in_labeled[order] = True
        return np.asarray(picks, dtype=np.int64), np.asarray(scores)


class DiscriminativeActiveLearning(_Discriminative):
    """DAL (Gissin & Shalev-Shwartz 2019) with a discriminator of the classifier's own kind."""

    name = "discriminative-active-learning"
    description = (
        "DAL: ask items a labelled-vs-unlabelled classifier (same kind) deems most unlabelled."
    )
    needs = ("probabilities",)

    def prepare(self, clf, X, candidates, indices_labeled) -> dict[str, Any]:
        return {"clf": clf, "X": X, "candidates": candidates, "labeled": indices_labeled}

    def fit_and_score(self, state, train_unl, asked, free, rng) -> np.ndarray:
        cand, X = state["candidates"], state["X"]
        lab_rows = np.concatenate([state["labeled"], cand[asked]])
        rows = np.concatenate([lab_rows, cand[train_unl]])
        target = np.r_[np.zeros(len(lab_rows), np.int64), np.ones(len(train_unl), np.int64)]
        disc = make_discriminator(state["clf"], int(rng.integers(2**31 - 1)))
        disc.fit(take_rows(X, rows), target)
        return predict_proba_chunked(disc, X, cand[free], self.chunk_size)[:, 1].astype(np.float64)


def make_discriminator(clf: Any, seed: int) -> Any:
    """A fresh binary classifier of the same kind as ``clf``, with balanced class weights if it has them."""
    try:
        disc = type(clf)(num_classes=2, seed=seed)
    except TypeError as err:
        raise ValueError(
            f"cannot build a binary {type(clf).__name__} as discriminator "
            "(its constructor must accept num_classes and seed)"
        ) from err
    if hasattr(disc, "class_weight"):
        disc.class_weight = "balanced"
    return disc


class DiscriminativeRepresentationLearning(_Discriminative):
    """DAL on the classifier's embeddings with a logistic-regression discriminator."""

    name = "discriminative-representation-learning"
    description = "DAL on embeddings: a logistic-regression labelled-vs-unlabelled discriminator."
    needs = ("embeddings",)

    def prepare(self, clf, X, candidates, indices_labeled) -> dict[str, Any]:
        return {
            "cand": embed_chunked(clf, X, candidates, self.chunk_size),
            "lab": embed_chunked(clf, X, indices_labeled, self.chunk_size)
            if len(indices_labeled)
            else None,
        }

    def fit_and_score(self, state, train_unl, asked, free, rng) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression

        parts = [state["cand"][asked]] + ([state["lab"]] if state["lab"] is not None else [])
        lab = np.concatenate(parts)
        if len(lab) == 0:  # nothing labelled yet: every item is equally "unlabelled"
            return np.full(len(free), 0.5)
        Xd = np.concatenate([lab, state["cand"][train_unl]])
        target = np.r_[np.zeros(len(lab), np.int64), np.ones(len(train_unl), np.int64)]
        disc = LogisticRegression(
            class_weight="balanced", max_iter=500, random_state=int(rng.integers(2**31 - 1))
        ).fit(Xd, target)
        emb = state["cand"]
        out = np.empty(len(free), dtype=np.float64)
        for start in range(0, len(free), self.chunk_size):
            rows = free[start : start + self.chunk_size]
            out[start : start + len(rows)] = disc.decision_function(emb[rows])
        return out
