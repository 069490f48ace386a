"""SetFit's pairs and schedule, label spreading's graph and iteration, on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.classifiers import LabelSpreadingClassifier, SetFitClassifier
from al_core.classifiers.label_spreading import knn_graph, spread_labels
from al_core.classifiers.setfit import contrastive_pairs

# -- SetFit -------------------------------------------------------------------------------------


def test_single_label_pairs_follow_the_classes():
    y = np.array([0, 0, 1, 2, 0])
    left, right, target = contrastive_pairs(y, 3, np.random.default_rng(0))
    # Per iteration: a positive for each of the three class-0 items, a negative for all five.
    assert (target == 1).sum() == 3 * 3 and (target == 0).sum() == 3 * 5
    assert np.all(y[left[target == 1]] == y[right[target == 1]])
    assert np.all(y[left[target == 0]] != y[right[target == 0]])
    assert np.all(left != right)
    assert sorted(np.unique(left[target == 1])) == [0, 1, 4]


def test_multi_label_pairs_share_a_label_or_none():
    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]])
    left, right, target = contrastive_pairs(Y, 4, np.random.default_rng(1), multi_label=True)
    shares = (Y[left] & Y[right]).any(axis=1)
    np.testing.assert_array_equal(shares, target == 1)
    # Item 2 shares a label with nobody: it only ever gets negatives.
    assert not np.any((left == 2) & (target == 1))


def test_one_class_gives_no_negatives_and_no_body_training(tiny_model_dir):
    clf = SetFitClassifier(3, seed=0, model=str(tiny_model_dir), num_threads=1)
    clf.fit(["a b c", "a b d"], np.array([1, 1]))
    assert clf.train_info_["body_trained"] is False
    np.testing.assert_allclose(clf.predict_proba(["x"])[:, 1], 1.0)


def test_the_body_is_fine_tuned_again_only_when_the_labels_grew_enough(tiny_model_dir, trec_small):
    X, y = trec_small["train_texts"], trec_small["train_y"]
    order = np.random.default_rng(0).permutation(len(y))
    clf = SetFitClassifier(
        6, seed=0, model=str(tiny_model_dir), num_iterations=1, max_pairs=20, num_threads=1
    )
    trained = []
    for n in (20, 30, 39, 40, 60, 80):
        rows = order[:n]
        clf.fit([X[i] for i in rows], y[rows])
        trained.append(clf.train_info_["body_trained"])
    assert trained == [True, False, False, True, False, True]  # growth factor 2: 20 -> 40 -> 80
    assert clf.body_items_ == 80
    cold = SetFitClassifier(
        6,
        seed=0,
        model=str(tiny_model_dir),
        num_iterations=1,
        max_pairs=20,
        num_threads=1,
        warm_start=False,
    )
    cold.fit([X[i] for i in order[:20]], y[order[:20]])
    cold.fit([X[i] for i in order[:30]], y[order[:30]])
    assert cold.train_info_["body_trained"] is True  # without warm start every fit trains


def test_each_body_fine_tune_gets_a_new_version_and_a_head_refit_keeps_it(
    tiny_model_dir, trec_small, tmp_path
):
    X, y = trec_small["train_texts"], trec_small["train_y"]
    clf = SetFitClassifier(
        6, seed=0, model=str(tiny_model_dir), num_iterations=1, max_pairs=20, num_threads=1
    )
    assert clf.text_encoder() is None  # nothing fine-tuned yet
    clf.fit(X[:20], y[:20])
    first = clf.body_version_
    encoder = clf.text_encoder()
    assert first and encoder.cacheable and encoder.model_id == f"setfit-body-{first}"
    np.testing.assert_array_equal(encoder.transform(X[:3]), clf.embed(X[:3]))
    clf.fit(X[:30], y[:30])  # head only
    assert clf.body_version_ == first
    clf.save(tmp_path / "saved")
    loaded = SetFitClassifier.load(tmp_path / "saved")
    assert loaded.body_version_ == first  # the same weights, so the same cached vectors
    clf.fit(X[:40], y[:40])  # the body again
    assert clf.body_version_ not in (None, first)


def _fitted_and_saved(tiny_model_dir, trec_small, folder):
    """A SetFit fitted on 20 TREC questions (its body fine-tuned), saved in ``folder``."""
    clf = SetFitClassifier(
        6, seed=0, model=str(tiny_model_dir), num_iterations=1, max_pairs=20, num_threads=1
    )
    clf.fit(trec_small["train_texts"][:20], trec_small["train_y"][:20])
    clf.save(folder)
    return clf


def test_remembered_vectors_are_used_instead_of_encoding_the_texts(
    tiny_model_dir, trec_small, tmp_path
):
    X = trec_small["train_texts"]
    clf = _fitted_and_saved(tiny_model_dir, trec_small, tmp_path / "saved")
    texts = X[20:26]
    own = clf.embed(texts)
    # A fresh load has no vectors in memory; hand it the vectors of other texts for these,
    # and its predictions must be the head's on those vectors, not on its own encodings.
    loaded = SetFitClassifier.load(tmp_path / "saved")
    other = clf.embed(X[30:36])
    loaded.remember(texts, other)
    np.testing.assert_allclose(loaded.predict_proba(texts), clf._head.predict_proba(other))
    assert not np.allclose(loaded.predict_proba(texts), clf.predict_proba(texts))
    np.testing.assert_allclose(loaded.embed(texts), other)
    assert not np.allclose(own, other)
    with pytest.raises(ValueError, match="6 texts but 5 vectors"):
        loaded.remember(texts, other[:5])


def test_a_loaded_model_reads_its_body_only_when_a_text_must_be_encoded(
    tiny_model_dir, trec_small, tmp_path
):
    import hashlib
    import shutil

    X, y = trec_small["train_texts"], trec_small["train_y"]
    clf = _fitted_and_saved(tiny_model_dir, trec_small, tmp_path / "first")
    known = X[:30]

    def weights(folder):
        return hashlib.sha256((folder / "body" / "model.safetensors").read_bytes()).hexdigest()

    # A head-only round on remembered vectors: the body is never loaded, and the saved model
    # carries the same body, byte for byte, under the same version.
    loaded = SetFitClassifier.load(tmp_path / "first")
    assert loaded._body is None and loaded.text_encoder() is not None
    loaded.remember(known, clf.embed(known))
    loaded.fit(known, y[:30])
    proba = loaded.predict_proba(known[:5])
    assert loaded.train_info_["body_trained"] is False and loaded._body is None
    loaded.save(tmp_path / "second")
    assert weights(tmp_path / "second") == weights(tmp_path / "first")
    again = SetFitClassifier.load(tmp_path / "second")
    assert again.body_version_ == clf.body_version_
    np.testing.assert_allclose(again.predict_proba(known[:5]), proba, atol=1e-5)
    assert again._body is not None  # those texts were not remembered: it had to encode them

    # A text the model has no vector for loads the body; once its folder is gone, that fails
    # with a message instead of a missing-file traceback from deep in safetensors.
    third = SetFitClassifier.load(tmp_path / "second")
    shutil.rmtree(tmp_path / "second")
    with pytest.raises(FileNotFoundError, match="no longer holds it"):
        third.predict_proba(X[40:41])


# -- label spreading ----------------------------------------------------------------------------


def test_knn_graph_links_each_point_to_its_nearest_neighbours():
    angles = np.array([0.0, 0.1, 0.3, 1.5])
    Z = np.column_stack([np.cos(angles), np.sin(angles)])
    W = knn_graph(Z, n_neighbors=1, chunk_rows=2).toarray()
    # Nearest neighbours: 0<->1, 1->0, 2->1, 3->2; symmetrised.
    expected_edges = {(0, 1), (1, 2), (2, 3)}
    edges = {(i, j) for i, j in zip(*np.nonzero(np.triu(W)), strict=True)}
    assert edges == expected_edges
    np.testing.assert_allclose(W, W.T)
    assert W[0, 1] == pytest.approx(np.cos(0.1)) and W[2, 3] == pytest.approx(np.cos(1.2))


def test_spreading_converges_to_the_closed_form():
    import scipy.sparse as sp

    W = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], float))
    Y = np.array([[1, 0], [0, 0], [0, 0], [0, 1]], float)
    alpha = 0.5
    d = np.asarray(W.sum(axis=1)).ravel()
    S = W.toarray() / np.sqrt(np.outer(d, d))
    closed = (1 - alpha) * np.linalg.solve(np.eye(4) - alpha * S, Y)
    np.testing.assert_allclose(spread_labels(W, Y, alpha, 200), closed, atol=1e-10)
    # Along the chain 0-1-2-3 item 1 leans to class 0, item 2 to class 1.
    assert closed[1].argmax() == 0 and closed[2].argmax() == 1


def test_the_unlabelled_pool_carries_labels_along_the_data():
    # Two arcs of points; one label at the end of each. Plain logistic regression on the two
    # labelled points splits the plane by distance to them; spreading follows the arcs.
    t = np.linspace(0, np.pi, 30)
    arc_a = np.column_stack([np.cos(t), np.sin(t), np.ones_like(t)])
    arc_b = np.column_stack([np.cos(t) + 0.9, -np.sin(t) + 0.4, np.ones_like(t)])
    X_lab = np.vstack([arc_a[:1], arc_b[-1:]]).astype(np.float32)
    y = np.array([0, 1])
    U = np.vstack([arc_a[1:], arc_b[:-1]]).astype(np.float32)
    truth = np.array([0] * 29 + [1] * 29)
    plain = LabelSpreadingClassifier(2, seed=0, C=100.0).fit(X_lab, y)
    semi = LabelSpreadingClassifier(2, seed=0, C=100.0, n_neighbors=3, pseudo_weight=1.0)
    semi.fit(X_lab, y, unlabeled=U)
    assert semi.spread_info_["reached"] == len(U)
    assert (semi.predict(U) == truth).mean() > (plain.predict(U) == truth).mean()
    assert (semi.predict(U) == truth).mean() >= 0.9
