"""Lifecycle, bookkeeping, persistence and error behaviour of ActiveLearner."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al_core.labels import UNLABELED
from al_core.learner import ActiveLearner, LearnerStateError
from tests.al_core.learner.al_fakes import (
    LeastConfidence,
    RandomInit,
    RandomQuery,
    RecordingCriterion,
    StratifiedInit,
    logreg_factory,
    make_data,
    make_multilabel,
)


def new_learner(strategy=None, seed: int | None = 0, X=None, **kwargs) -> ActiveLearner:
    if X is None:
        X, _ = make_data()
    return ActiveLearner(
        logreg_factory(3),
        strategy or LeastConfidence(),
        X,
        num_classes=3,
        seed=seed,
        **kwargs,
    )


@pytest.fixture(scope="module")
def data():
    return make_data()


def started(data, strategy=None, seed=0, n_init=12, **kwargs) -> ActiveLearner:
    X, y = data
    learner = new_learner(strategy, seed=seed, X=X, **kwargs)
    learner.initialize_with(RandomInit(), n_init, y_gold=y)
    return learner


def test_lifecycle_writes_labels_back(data):
    X, y = data
    learner = new_learner(X=X)
    init = np.arange(0, 30, 3)
    learner.initialize(init, y[init])
    assert learner.iteration == 0
    np.testing.assert_array_equal(learner.indices_labeled, init)
    assert len(learner.indices_unlabeled) == len(X) - len(init)
    first_clf = learner.classifier

    result = learner.query(5)
    assert len(result.indices) == 5 == len(result.scores)
    assert not np.isin(result.indices, init).any()
    np.testing.assert_array_equal(learner.indices_pending, result.indices)
    assert np.all(np.diff(result.scores) <= 0)  # best first

    learner.update(y[result.indices])
    assert learner.iteration == 1
    assert learner.classifier is not first_clf  # retrained with a fresh model
    labels = learner.labels
    expected = np.full(len(X), UNLABELED)
    expected[init] = y[init]
    expected[result.indices] = y[result.indices]
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(learner.labeled_mask, labels != UNLABELED)
    assert len(learner.indices_pending) == 0
    labels[:] = 0  # a copy: the learner is unaffected
    assert (learner.labels == UNLABELED).sum() == len(X) - 15


def test_query_until_exhausted_returns_empty(data):
    X, y = data
    learner = new_learner(RandomQuery(), X=X[:25])
    learner.initialize(np.arange(5), y[:5])
    result = learner.query(100)
    assert sorted(result.indices.tolist()) == list(range(5, 25))
    learner.update(y[result.indices])
    empty = learner.query(10)
    assert len(empty.indices) == 0 and len(empty.scores) == 0
    learner.update([])  # answering an empty query is a no-op
    assert learner.iteration == 1


def test_ignore_excludes_from_query_and_training(data):
    X, y = data
    learner = new_learner(RandomQuery(), X=X[:40])
    learner.initialize(np.arange(10), y[:10])
    learner.ignore([10, 11, 12])
    assert not np.isin([10, 11, 12], learner.indices_unlabeled).any()
    result = learner.query(100)
    assert len(result.indices) == 27 and not np.isin(result.indices, [10, 11, 12]).any()

    # Skipping two pending items: update() then expects labels for the others, in order.
    learner.ignore(result.indices[:2])
    rest = result.indices[2:]
    np.testing.assert_array_equal(learner.indices_pending, rest)
    learner.update(y[rest])
    assert len(learner.indices_labeled) == 10 + 25

    # Ignoring a labelled item drops its label and retrains without it.
    before = learner.classifier
    learner.ignore([0])
    assert not learner.labeled_mask[0] and learner.labels[0] == UNLABELED
    assert learner.ignored_mask[0] and learner.classifier is not before
    assert 0 not in learner.indices_unlabeled
    with pytest.raises(ValueError, match="ignored"):
        learner.update_label_at([0], [1])


def test_update_label_at_relabels_and_adds(data):
    X, y = data
    learner = started(data)
    target = learner.indices_labeled[0]
    new_label = (y[target] + 1) % 3
    extra = learner.indices_unlabeled[:2]
    learner.update_label_at([target, *extra], np.array([new_label, y[extra[0]], y[extra[1]]]))
    assert learner.labels[target] == new_label
    assert learner.labeled_mask[extra].all()
    assert learner.iteration == 0  # not a query round
    assert len(learner.indices_labeled) == 14

    # Labelling a pending item out of band removes it from the pending list.
    result = learner.query(3)
    learner.update_label_at(result.indices[:1], y[result.indices[:1]])
    np.testing.assert_array_equal(learner.indices_pending, result.indices[1:])
    learner.update(y[result.indices[1:]])
    assert learner.iteration == 1


def test_same_seed_same_queries_and_different_seed_differs(data):
    def trace(seed):
        learner = started(data, RandomQuery(), seed=seed)
        out = [learner.indices_labeled.tolist()]
        for _ in range(2):
            res = learner.query(7)
            out.append(res.indices.tolist())
            learner.update(data[1][res.indices])
        return out

    assert trace(3) == trace(3)
    assert trace(3) != trace(4)


def test_query_is_repeatable_within_an_iteration(data):
    learner = started(data, RandomQuery())
    first = learner.query(6).indices
    again = learner.query(6).indices  # replaces the pending set, same seed
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(learner.indices_pending, again)


def test_save_load_round_trip_gives_identical_next_query(data, tmp_path):
    X, y = data
    learner = started(data, LeastConfidence(), stopping=[RecordingCriterion(50)])
    learner.update(y[learner.query(5).indices])
    learner.ignore([int(learner.indices_unlabeled[0])])
    path = learner.save(tmp_path / "learner.pkl")
    assert path.exists() and not list(tmp_path.glob(".tmp-*"))

    loaded = ActiveLearner.load(path)
    assert loaded.iteration == learner.iteration
    np.testing.assert_array_equal(loaded.labels, learner.labels)
    np.testing.assert_array_equal(loaded.ignored_mask, learner.ignored_mask)
    a, b = learner.query(8), loaded.query(8)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.scores, b.scores)
    loaded.update(y[b.indices])
    assert loaded.iteration == learner.iteration + 1


def test_save_without_features_needs_x_on_load(data, tmp_path):
    X, y = data
    learner = started(data, RandomQuery())
    path = learner.save(tmp_path / "light.pkl", include_features=False)
    with pytest.raises(ValueError, match="pass X"):
        ActiveLearner.load(path)
    with pytest.raises(ValueError, match="rows"):
        ActiveLearner.load(path, X=X[:10])
    loaded = ActiveLearner.load(path, X=X)
    np.testing.assert_array_equal(loaded.query(4).indices, learner.query(4).indices)


def test_save_with_unpicklable_factory_explains(data, tmp_path):
    X, y = data
    learner = ActiveLearner(lambda: logreg_factory(3)(), RandomQuery(), X, num_classes=3, seed=0)
    learner.initialize(np.arange(9), y[:9])
    with pytest.raises(TypeError, match="picklable"):
        learner.save(tmp_path / "x.pkl")
    assert not list(tmp_path.iterdir())


def test_load_rejects_other_pickles(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(__import__("pickle").dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a saved ActiveLearner"):
        ActiveLearner.load(path)


def test_initialize_with_without_gold_makes_items_pending(data):
    X, y = data
    learner = new_learner(X=X)
    picked = learner.initialize_with(RandomInit(), 9)
    assert len(picked) == 9 and not learner.initialized
    np.testing.assert_array_equal(learner.indices_pending, picked)
    with pytest.raises(LearnerStateError, match="update"):
        learner.query(3)
    learner.update(y[picked])
    assert learner.initialized and learner.iteration == 0
    np.testing.assert_array_equal(learner.indices_labeled, np.sort(picked))


def test_initialize_with_passes_gold_to_stratified_and_skips_ignored(data):
    X, y = data
    learner = new_learner(X=X)
    learner.ignore(np.arange(50))
    init = StratifiedInit()
    picked = learner.initialize_with(init, 9, y_gold=y)
    assert len(init.seen_y) == len(X) - 50  # only the non-ignored items
    assert picked.min() >= 50
    assert np.bincount(y[picked], minlength=3).tolist() == [3, 3, 3]
    with pytest.raises(ValueError, match="needs gold labels"):
        new_learner(X=X).initialize_with(StratifiedInit(), 9)


def test_check_stop_runs_criteria_on_fixed_set(data):
    X, y = data
    criterion = RecordingCriterion(max_labels=20)
    learner = started(data, stopping=[criterion])
    first = learner.check_stop(np.arange(50))
    assert len(first) == 1 and first[0].stop is False
    ctx = criterion.seen[0]
    assert ctx.iteration == 0 and ctx.num_labeled == 12
    assert ctx.proba.shape == (50, 3) and ctx.predictions.shape == (50,)
    np.testing.assert_array_equal(ctx.predictions, ctx.proba.argmax(axis=1))
    learner.update(y[learner.query(10).indices])
    assert learner.check_stop()[0].stop is True
    assert criterion.seen[1].proba.shape == (len(X), 3)
    assert started(data).check_stop() == []


def test_sparse_features(data):
    X, y = data
    learner = new_learner(X=sp.csr_matrix(X))
    learner.initialize(np.arange(15), y[:15])
    learner.update(y[learner.query(5).indices])
    assert len(learner.indices_labeled) == 20


def test_multi_label_uses_mask_and_indicator_rows():
    X, Y = make_multilabel()
    learner = ActiveLearner(
        logreg_factory(3, multi_label=True), LeastConfidence(), X, num_classes=3, multi_label=True
    )
    init = np.arange(20)
    learner.initialize(init, Y[init])
    result = learner.query(4)
    answers = Y[result.indices].copy()
    answers[0] = 0  # "no label applies" is a real answer
    learner.update(answers)
    assert learner.labels.shape == (len(X), 3) and learner.labels.dtype == np.int8
    assert learner.labeled_mask[result.indices[0]]
    assert not learner.labels[result.indices[0]].any()
    assert learner.labeled_mask.sum() == 24
    with pytest.raises(ValueError, match="indicator matrix"):
        learner.update_label_at([30], np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        learner.update_label_at([30], np.array([[2, 0, 1]]))
