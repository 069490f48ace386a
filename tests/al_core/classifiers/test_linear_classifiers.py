from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al_core.classifiers import (
    REGISTRY,
    Classifier,
    EmbeddingLogRegClassifier,
    LinearSVMClassifier,
    LogisticRegressionClassifier,
    NotFittedError,
    check_targets,
    pad_proba,
)
from al_core.embeddings import TfidfEmbedder
from al_core.labels import LabelSet

ALL = sorted((n, c) for n, c in REGISTRY.items() if c.input_kind == "features")


def blobs(n_per_class: int, classes: list[int], dim: int = 8, seed: int = 0):
    """Well-separated Gaussian blobs, one per class index in ``classes``."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[: max(classes) + 1] * 4.0
    X = np.vstack([centers[c] + rng.normal(size=(n_per_class, dim)) for c in classes])
    y = np.repeat(np.asarray(classes, dtype=np.int64), n_per_class)
    return X.astype(np.float32), y


def test_registry():
    assert set(REGISTRY) == {
        "logreg",
        "svm",
        "embedding-logreg",
        "transformer",
        "setfit",
        "kimcnn",
    }
    for name, cls in REGISTRY.items():
        assert issubclass(cls, Classifier) and cls.name == name
        assert cls.description
        texts = name in ("transformer", "setfit", "kimcnn")
        assert cls.input_kind == ("texts" if texts else "features")
        assert (cls.default_embedder is None) == texts
    assert LogisticRegressionClassifier.default_embedder == "tfidf"
    assert LinearSVMClassifier.default_embedder == "tfidf"
    assert EmbeddingLogRegClassifier.default_embedder == "minilm"
    assert LinearSVMClassifier.supports_multi_label is False
    with pytest.raises(ValueError, match="multi-label"):
        LinearSVMClassifier(3, multi_label=True)


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_contract_single_label(name, cls):
    X, y = blobs(12, [0, 1, 2, 3])
    clf = cls(4, seed=0)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    proba = clf.fit(X, y).predict_proba(X)
    assert proba.shape == (48, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(clf.predict(X), proba.argmax(axis=1))
    assert (clf.predict(X) == y).mean() > 0.9
    again = cls(4, seed=0).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba, again)
    assert clf.predict_proba(X[:0]).shape == (0, 4)


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_absent_classes_get_zero_columns(name, cls):
    X, y = blobs(10, [0, 2])
    proba = cls(4, seed=0).fit(X, y).predict_proba(X)
    assert proba.shape == (20, 4)
    np.testing.assert_array_equal(proba[:, [1, 3]], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(proba.argmax(axis=1))) <= {0, 2}


def test_padding_matches_the_plain_sklearn_model_by_hand():
    from sklearn.linear_model import LogisticRegression

    X, y = blobs(10, [0, 2], dim=3)
    clf = LogisticRegressionClassifier(4, seed=0, C=0.5).fit(X, y)
    ref = LogisticRegression(C=0.5, max_iter=1000, random_state=0).fit(X, y)
    expected = np.zeros((20, 4))
    expected[:, 0] = ref.predict_proba(X)[:, 0]
    expected[:, 2] = ref.predict_proba(X)[:, 1]
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_, [0, 2])


def test_pad_proba_helper():
    partial = np.array([[0.25, 0.75], [0.5, 0.5]])
    out = pad_proba(partial, np.array([3, 1]), 4)
    np.testing.assert_allclose(out, [[0, 0.75, 0, 0.25], [0, 0.5, 0, 0.5]])
    np.testing.assert_allclose(pad_proba(np.array([[2.0, 2.0]]), [0, 1], 3), [[0.5, 0.5, 0]])
    raw = pad_proba(np.array([[0.9, 0.8]]), [0, 2], 3, normalize=False)
    np.testing.assert_allclose(raw, [[0.9, 0, 0.8]])


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_single_class_training_predicts_that_class(name, cls):
    X, y = blobs(5, [1])
    clf = cls(3, seed=0).fit(X, y)
    Xtest, _ = blobs(4, [0, 2], seed=1)
    proba = clf.predict_proba(Xtest)
    np.testing.assert_array_equal(proba, np.tile([0.0, 1.0, 0.0], (8, 1)))
    np.testing.assert_array_equal(clf.predict(Xtest), 1)


def test_target_validation():
    X, y = blobs(3, [0, 1])
    clf = LogisticRegressionClassifier(2)
    with pytest.raises(ValueError, match="-1 marks an unlabelled"):
        clf.fit(X, np.where(y == 0, -1, y))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        clf.fit(X, y + 1)
    with pytest.raises(ValueError, match="rows"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="zero labelled"):
        clf.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="multi_label=True"):
        clf.fit(X, np.eye(2, dtype=np.int8)[y])
    with pytest.raises(ValueError, match="integer"):
        clf.fit(X, y + 0.5)
    with pytest.raises(TypeError, match="not texts"):
        clf.fit(["a text", "another"], np.array([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        check_targets(np.zeros((6, 3)), 2, True, 6)
    with pytest.raises(ValueError, match="only 0 and 1"):
        check_targets(np.full((6, 2), 2), 2, True, 6)
    assert check_targets(np.array([0.0, 1.0]), 2, False, 2).dtype == np.int64


@pytest.mark.parametrize("cls", [LogisticRegressionClassifier, EmbeddingLogRegClassifier])
def test_multi_label_one_vs_rest(cls):
    X, single = blobs(10, [0, 1, 2])
    Y = np.zeros((30, 4), dtype=np.int8)
    Y[single == 0, 0] = 1
    Y[single == 1, 1] = 1
    Y[single == 2, 0] = 1  # class-2 blob carries labels 0 and 2
    Y[single == 2, 2] = 1  # label 3 never occurs
    clf = cls(4, multi_label=True, seed=0).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 4)
    np.testing.assert_array_equal(proba[:, 3], 0.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(clf.predict(X), Y)
    assert clf.predict(X).dtype == np.int8
    # A label present on every example is predicted with probability 1.
    Y_all = Y.copy()
    Y_all[:, 3] = 1
    np.testing.assert_array_equal(cls(4, multi_label=True).fit(X, Y_all).predict_proba(X)[:, 3], 1)
    with pytest.raises(ValueError, match="indicator matrix"):
        cls(4, multi_label=True).fit(X, single)


def test_multi_label_round_trip_through_labelset_and_tfidf():
    labels = LabelSet(["sports", "politics", "economy"], multi_label=True)
    docs = [
        ("the team won the match", ["sports"]),
        ("parliament passed the budget law", ["politics", "economy"]),
        ("the striker scored a goal", ["sports"]),
        ("inflation and interest rates rose", ["economy"]),
        ("the minister resigned after the vote", ["politics"]),
        ("the club signed a new coach", ["sports"]),
        ("tax reform debated by the senate", ["politics", "economy"]),
        ("markets rallied as growth returned", ["economy"]),
    ]
    texts = [t for t, _ in docs]
    Y = labels.encode([ls for _, ls in docs])
    X = TfidfEmbedder().fit_transform(texts)
    clf = LogisticRegressionClassifier(len(labels), multi_label=True, C=100.0, seed=0).fit(X, Y)
    assert labels.decode(clf.predict(X)) == [sorted(ls, key=labels.index) for _, ls in docs]


def test_tfidf_text_classification_end_to_end():
    texts = ["great match and a late goal", "the election results are in"] * 6
    y = np.array([0, 1] * 6)
    X = TfidfEmbedder().fit_transform(texts)
    for cls in (LogisticRegressionClassifier, LinearSVMClassifier):
        clf = cls(3, seed=0).fit(X, y)
        assert sp.issparse(X)
        np.testing.assert_array_equal(clf.predict(X), y)
        np.testing.assert_array_equal(clf.predict_proba(X)[:, 2], 0.0)


def test_svm_calibrated_path():
    from sklearn.calibration import CalibratedClassifierCV

    X, y = blobs(9, [0, 1, 3])  # 9 per class >= 3 folds
    clf = LinearSVMClassifier(4, seed=0, calibration_folds=3).fit(X, y)
    assert clf.calibrated_ is True
    assert isinstance(clf._estimators[0], CalibratedClassifierCV)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba[:, 2], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == y).mean() > 0.9
    assert not np.allclose(proba.max(axis=1), 1.0)  # genuinely probabilistic


def test_svm_softmax_fallback_multiclass():
    X, y = blobs(2, [0, 1, 2])  # 2 per class < 3 folds
    clf = LinearSVMClassifier(4, seed=0, softmax_temperature=0.5).fit(X, y)
    assert clf.calibrated_ is False
    scores = clf._estimators[0].decision_function(X) / 0.5
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, :3], expected, rtol=1e-10)
    np.testing.assert_array_equal(proba[:, 3], 0.0)


def test_svm_softmax_fallback_binary_is_a_sigmoid_of_the_margin():
    X, y = blobs(3, [0, 2])
    y[0] = 2  # class 0 now has 2 examples: below the 3 folds
    clf = LinearSVMClassifier(3, seed=0).fit(X, y)
    assert clf.calibrated_ is False
    margin = clf._estimators[0].decision_function(X)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 2], 1.0 / (1.0 + np.exp(-margin)), rtol=1e-10)
    np.testing.assert_allclose(proba[:, 0], 1.0 / (1.0 + np.exp(margin)), rtol=1e-10)
    # Refitting with enough data switches to the calibrated path.
    Xb, yb = blobs(6, [0, 2])
    assert clf.fit(Xb, yb).calibrated_ is True


def test_svm_hyperparameter_checks():
    with pytest.raises(ValueError, match="calibration_folds"):
        LinearSVMClassifier(2, calibration_folds=1)
    with pytest.raises(ValueError, match="C must be positive"):
        LinearSVMClassifier(2, C=0)
    with pytest.raises(ValueError, match="C must be positive"):
        LogisticRegressionClassifier(2, C=-1)


def test_embedding_head_embed_and_dense_only():
    X, y = blobs(5, [0, 1])
    clf = EmbeddingLogRegClassifier(2, seed=0)
    E = clf.embed(X.astype(np.float64))
    assert E.dtype == np.float32
    np.testing.assert_allclose(E, X)
    with pytest.raises(TypeError, match="dense"):
        clf.fit(sp.csr_matrix(X), y)
    std = EmbeddingLogRegClassifier(2, seed=0, standardize=True).fit(X, y)
    assert (std.predict(X) == y).all()
    assert EmbeddingLogRegClassifier(2).C == 3.0


def test_nested_lists_of_numbers_are_features():
    X, y = blobs(4, [0, 1], dim=3)
    clf = LogisticRegressionClassifier(2, seed=0).fit(X.tolist(), y)
    np.testing.assert_allclose(clf.predict_proba(X.tolist()), clf.predict_proba(X))
