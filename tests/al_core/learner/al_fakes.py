"""Test doubles for the learner and simulation tests (not a test module).

Small concrete implementations of the ``al_core`` protocols so these tests do not depend on the
registries other modules are building: a logistic-regression classifier that pads missing
classes, least-confidence and random strategies, random and stratified initializers, and a
stopping criterion that records what it saw.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from al_core.classifiers.base import Classifier, NotFittedError
from al_core.initialization.base import Initializer
from al_core.query.base import QueryStrategy, predict_proba_chunked
from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class LogRegClassifier(Classifier):
    """Logistic regression on dense/sparse features; constant columns for unseen classes."""

    name = "test-logreg"
    description = "logistic regression (tests only)"
    supports_multi_label = True

    def fit(self, X: Any, y: np.ndarray) -> LogRegClassifier:
        y = np.asarray(y)
        columns = [y[:, j] for j in range(self.num_classes)] if self.multi_label else [y]
        # One BLAS thread: on tiny problems thread start-up dominates and makes tests slow.
        with threadpool_limits(limits=1):
            self._models = [self._fit_one(X, col) for col in columns]
        return self

    def _fit_one(self, X: Any, y: np.ndarray) -> Any:
        classes = np.unique(y)
        if len(classes) < 2:
            return int(classes[0])  # a constant model
        return LogisticRegression(max_iter=300, random_state=self.seed).fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        if not hasattr(self, "_models"):
            raise NotFittedError("fit first")
        with threadpool_limits(limits=1):
            return self._predict_proba(X)

    def _predict_proba(self, X: Any) -> np.ndarray:
        n = X.shape[0]
        if self.multi_label:
            out = np.zeros((n, self.num_classes))
            for j, model in enumerate(self._models):
                out[:, j] = model if isinstance(model, int) else model.predict_proba(X)[:, 1]
            return out
        model = self._models[0]
        out = np.zeros((n, self.num_classes))
        if isinstance(model, int):
            out[:, model] = 1.0
        else:
            out[:, model.classes_] = model.predict_proba(X)
        return out


def logreg_factory(num_classes: int, multi_label: bool = False) -> partial:
    """A picklable classifier factory."""
    return partial(LogRegClassifier, num_classes, multi_label=multi_label, seed=0)


class LeastConfidence(QueryStrategy):
    name = "least-confidence"
    description = "1 - max probability (tests only)"
    needs = ("probabilities",)
    label_types = ("single", "multi")

    def score(self, clf, X, candidates, indices_labeled, y, rng) -> np.ndarray:
        proba = predict_proba_chunked(clf, X, candidates)
        if proba.ndim == 2 and np.asarray(y).ndim == 2:
            return -np.abs(proba - 0.5).mean(axis=1)
        return 1.0 - proba.max(axis=1)


class RandomQuery(QueryStrategy):
    name = "random"
    description = "uniform random (tests only)"
    label_types = ("single", "multi")

    def score(self, clf, X, candidates, indices_labeled, y, rng) -> np.ndarray:
        return rng.random(len(candidates))


class RandomInit(Initializer):
    name = "random"
    description = "uniform random sample (tests only)"

    def select(self, n_pool, n, *, y=None, seed=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.choice(n_pool, size=min(n, n_pool), replace=False)


class StratifiedInit(Initializer):
    """Round-robin over classes; records the ``y`` it was given."""

    name = "stratified"
    description = "one per class in turn (tests only)"
    needs_labels = True

    def __init__(self) -> None:
        self.seen_y: np.ndarray | None = None

    def select(self, n_pool, n, *, y=None, seed=None) -> np.ndarray:
        if y is None:
            raise ValueError("needs y")
        self.seen_y = np.asarray(y)
        rng = np.random.default_rng(seed)
        by_class = [rng.permutation(np.flatnonzero(y == c)).tolist() for c in np.unique(y)]
        picked: list[int] = []
        while len(picked) < min(n, n_pool):
            for members in by_class:
                if members and len(picked) < n:
                    picked.append(members.pop())
        return np.array(picked, dtype=np.int64)


class RecordingCriterion(StoppingCriterion):
    """Stops once ``num_labeled >= max_labels``; keeps every context it was given."""

    name = "max-labels"
    description = "stop at a label budget (tests only)"

    def __init__(self, max_labels: int) -> None:
        self.max_labels = max_labels
        self.seen: list[StoppingContext] = []

    def _check(self, ctx: StoppingContext) -> StopDecision:
        self.seen.append(ctx)
        stop = ctx.num_labeled >= self.max_labels
        return StopDecision(stop, float(ctx.num_labeled), f"{ctx.num_labeled} labels")

    def state_dict(self) -> dict[str, Any]:
        return {"checks": len(self.seen)}


def make_data(
    n_samples: int = 300, n_classes: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small, learnable dense dataset."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=6,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X, y.astype(np.int64)


def make_multilabel(n_samples: int = 200, n_labels: int = 3, seed: int = 0):
    """Dense features and a 2-D int8 indicator matrix learnable from them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 6))
    Y = (X[:, :n_labels] > 0).astype(np.int8)
    return X, Y
