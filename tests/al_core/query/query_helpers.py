"""Test doubles for the query-strategy tests: a real scikit-learn classifier and fakes."""

from __future__ import annotations

from typing import Self

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

from al_core.classifiers.base import Classifier
from al_core.features import Features


class SklearnLogReg(Classifier):
    """Logistic regression on dense or sparse features, padded to ``num_classes`` columns."""

    name = "test-logreg"
    description = "scikit-learn LogisticRegression (test helper)."

    def fit(self, X: Features, y: np.ndarray) -> Self:
        y = np.asarray(y, dtype=np.int64)
        self.classes_ = np.unique(y)
        self.model_ = None
        if len(self.classes_) > 1:
            self.model_ = LogisticRegression(max_iter=500, random_state=self.seed).fit(X, y)
        return self

    def predict_proba(self, X: Features) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise RuntimeError("not fitted")
        out = np.zeros((X.shape[0], self.num_classes), dtype=np.float64)
        if self.model_ is None:
            out[:, self.classes_[0]] = 1.0
        else:
            out[:, self.model_.classes_] = self.model_.predict_proba(X)
        return out


class FixedProba:
    """Returns row ``int(X[i, 0])`` of a fixed probability matrix; counts its calls."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = np.asarray(proba, dtype=np.float64)
        self.calls: list[int] = []

    def fit(self, X: Features, y: np.ndarray) -> Self:
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.calls.append(len(X))
        return self.proba[np.asarray(X)[:, 0].astype(np.int64)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)


class NoProba:
    """A classifier with ``fit``/``predict`` only."""

    def fit(self, X: Features, y: np.ndarray) -> Self:
        return self

    def predict(self, X: Features) -> np.ndarray:
        return np.zeros(X.shape[0], dtype=np.int64)


def index_features(n: int) -> np.ndarray:
    """A one-column feature matrix whose value is the row index (for :class:`FixedProba`)."""
    return np.arange(n, dtype=np.float64).reshape(-1, 1)


def blobs(n: int = 60, num_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian blobs, so a fitted model is not certain everywhere."""
    X, y = make_blobs(
        n_samples=n, centers=num_classes, n_features=4, cluster_std=3.0, random_state=seed
    )
    return X, y.astype(np.int64)


class TableClassifier:
    """Column 0 of ``X`` is a row id: ``predict_proba`` returns that row of a fixed table and
    ``embed`` returns the remaining columns (for hand-computed cases)."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = np.asarray(proba, dtype=np.float64)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba[np.asarray(X)[:, 0].astype(np.int64)]

    def embed(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)[:, 1:]


def table_features(embeddings: np.ndarray) -> np.ndarray:
    """Features for :class:`TableClassifier`: row id, then the embedding."""
    emb = np.asarray(embeddings, dtype=np.float64).reshape(len(embeddings), -1)
    return np.column_stack([np.arange(len(emb)), emb])


class Lacking:
    """``clf`` without one capability (``missing`` is a method name): for requirement tests."""

    def __init__(self, clf, missing: str) -> None:
        self._clf, self._missing = clf, missing

    def __getattr__(self, name: str):
        if name == self._missing:
            raise AttributeError(name)
        return getattr(self._clf, name)
