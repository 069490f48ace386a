"""The contract every classifier inherits (see ``test_classifier_contract.py``).

A :class:`ClassifierCase` says how to build a classifier cheaply and what data it reads
(features or texts); :class:`ClassifierContract` checks the protocol against it: fitting,
probabilities (one column per class, label-set order, rows summing to 1 or entries in [0, 1]),
determinism under a seed, absent classes, a single labelled class, wrong input kind, refits,
multi-label, and a save/load round trip during which pickle is never used.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from al_core.classifiers import Classifier, NotFittedError


@dataclass
class ClassifierCase:
    name: str
    make: Callable[..., Classifier]  # make(num_classes, multi_label=False, seed=0)
    kind: str  # "features" or "texts"
    tolerance: float = 0.0  # for determinism and round trips (torch kernels may differ a bit)
    fit_kwargs: Callable[[Any], dict[str, Any]] = field(default=lambda data: {})


def blobs(n_per_class: int, classes: list[int], dim: int = 8, seed: int = 0):
    """Well-separated Gaussian blobs (unit-norm rows, like sentence embeddings)."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[: max(classes) + 1] * 4.0
    X = np.vstack([centers[c] + rng.normal(size=(n_per_class, dim)) for c in classes])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.asarray(classes, dtype=np.int64), n_per_class)


class ClassifierContract:
    """Subclasses set the ``case`` fixture; every test below then runs against it."""

    @pytest.fixture
    def data(self, case, trec_small):
        """Training/test inputs of the case's kind with 6 classes (TREC-6 or blobs)."""
        if case.kind == "texts":
            return {
                "X": trec_small["train_texts"],
                "y": trec_small["train_y"],
                "X_test": trec_small["test_texts"],
                "wrong": blobs(4, [0, 1])[0],
            }
        X, y = blobs(20, [0, 1, 2, 3, 4, 5])
        return {"X": X, "y": y, "X_test": blobs(5, [0, 1, 2, 3, 4, 5], seed=1)[0], "wrong": ["a b"]}

    def rows(self, X, idx):
        return [X[int(i)] for i in idx] if isinstance(X, list) else X[idx]

    def fit(self, case, clf, X, y, data):
        return clf.fit(X, y, **case.fit_kwargs(data))

    def test_fits_and_gives_one_column_per_class(self, case, data):
        clf = case.make(6, seed=0)
        with pytest.raises(NotFittedError):
            clf.predict_proba(data["X_test"])
        proba = self.fit(case, clf, data["X"], data["y"], data).predict_proba(data["X_test"])
        n = len(data["X_test"])
        assert proba.shape == (n, 6) and proba.dtype == np.float64
        assert np.all(proba >= 0) and np.all(proba <= 1)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
        np.testing.assert_array_equal(clf.predict(data["X_test"]), proba.argmax(axis=1))
        assert clf.is_fitted

    def test_deterministic_under_a_seed(self, case, data):
        a = self.fit(case, case.make(6, seed=3), data["X"], data["y"], data)
        b = self.fit(case, case.make(6, seed=3), data["X"], data["y"], data)
        np.testing.assert_allclose(
            a.predict_proba(data["X_test"]), b.predict_proba(data["X_test"]), atol=case.tolerance
        )

    def test_a_class_missing_from_the_labels_gets_zero_probability(self, case, data):
        keep = np.flatnonzero(np.isin(data["y"], [0, 2, 3]))
        clf = self.fit(
            case, case.make(6, seed=0), self.rows(data["X"], keep), data["y"][keep], data
        )
        proba = clf.predict_proba(data["X_test"])
        assert proba.shape == (len(data["X_test"]), 6)
        np.testing.assert_array_equal(proba[:, [1, 4, 5]], 0.0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)

    def test_a_single_labelled_class_is_predicted_with_certainty(self, case, data):
        keep = np.flatnonzero(data["y"] == 4)[:5]
        clf = self.fit(
            case, case.make(6, seed=0), self.rows(data["X"], keep), data["y"][keep], data
        )
        proba = clf.predict_proba(data["X_test"])
        np.testing.assert_allclose(proba[:, 4], 1.0)
        assert (clf.predict(data["X_test"]) == 4).all()

    def test_wrong_input_kind_is_refused_clearly(self, case, data):
        clf = case.make(6, seed=0)
        with pytest.raises(TypeError, match="texts|feature"):
            clf.fit(data["wrong"], np.zeros(len(data["wrong"]), dtype=np.int64))
        self.fit(case, clf, data["X"], data["y"], data)
        with pytest.raises(TypeError, match="texts|feature"):
            clf.predict_proba(data["wrong"])

    def test_bad_targets_are_refused(self, case, data):
        clf = case.make(6, seed=0)
        with pytest.raises(ValueError, match="class indices"):
            clf.fit(data["X"], np.full(len(data["y"]), 9))

    def test_refitting_the_same_instance_works(self, case, data):
        clf = case.make(6, seed=0)
        half = np.arange(0, len(data["y"]), 2)
        self.fit(case, clf, self.rows(data["X"], half), data["y"][half], data)
        self.fit(case, clf, data["X"], data["y"], data)
        assert clf.predict_proba(data["X_test"]).shape == (len(data["X_test"]), 6)

    def test_save_load_round_trip_never_unpickles(self, case, data, tmp_path, monkeypatch):
        clf = self.fit(case, case.make(6, seed=0), data["X"], data["y"], data)
        expected = clf.predict_proba(data["X_test"])
        clf.save(tmp_path / "model")

        def refuse(*args, **kwargs):
            raise AssertionError("pickle was used while loading a model artifact")

        monkeypatch.setattr(pickle, "load", refuse)
        monkeypatch.setattr(pickle, "loads", refuse)
        monkeypatch.setattr(pickle, "Unpickler", refuse)
        try:
            import torch

            monkeypatch.setattr(torch, "load", refuse)
        except ImportError:
            pass
        loaded = Classifier.load(tmp_path / "model")
        assert type(loaded) is type(clf) and loaded.get_params() == clf.get_params()
        np.testing.assert_allclose(
            loaded.predict_proba(data["X_test"]), expected, atol=max(case.tolerance, 1e-12)
        )
        files = [p for p in (tmp_path / "model").rglob("*") if p.is_file()]
        assert not [p for p in files if p.suffix in (".pkl", ".pickle", ".bin", ".pt", ".joblib")]

    def test_an_unfitted_classifier_saves_and_loads(self, case, tmp_path):
        clf = case.make(6, seed=0)
        loaded = Classifier.load(clf.save(tmp_path / "blank"))
        assert not loaded.is_fitted and loaded.get_params() == clf.get_params()
