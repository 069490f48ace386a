"""ActiveLearner refuses misuse with errors that say what to do instead."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.learner import ActiveLearner, LearnerStateError
from tests.al_core.learner.al_fakes import LeastConfidence, logreg_factory, make_data

X, Y = make_data(n_samples=120)


def fresh(**kwargs) -> ActiveLearner:
    return ActiveLearner(logreg_factory(3), LeastConfidence(), X, num_classes=3, seed=0, **kwargs)


def ready() -> ActiveLearner:
    learner = fresh()
    learner.initialize(np.arange(10), Y[:10])
    return learner


def test_query_before_initialize():
    with pytest.raises(LearnerStateError, match="initialize"):
        fresh().query(5)


def test_classifier_before_initialize():
    with pytest.raises(LearnerStateError, match="initialize"):
        _ = fresh().classifier


def test_update_before_query():
    with pytest.raises(LearnerStateError, match=r"call query\(\) first"):
        ready().update(Y[:3])


def test_update_twice_for_one_query():
    learner = ready()
    result = learner.query(3)
    learner.update(Y[result.indices])
    with pytest.raises(LearnerStateError, match="query"):
        learner.update(Y[result.indices])


def test_update_length_mismatch():
    learner = ready()
    learner.query(4)
    with pytest.raises(ValueError, match="got 3 labels for 4 pending items"):
        learner.update(Y[:3])


def test_initialize_twice():
    learner = ready()
    with pytest.raises(LearnerStateError, match="already initialized"):
        learner.initialize([50], Y[:1])


@pytest.mark.parametrize("bad", [[3], [-1], [7]])
def test_labels_out_of_range(bad):
    learner = ready()
    learner.query(1)
    with pytest.raises(ValueError, match=r"out of range \[0, 3\)"):
        learner.update(bad)


def test_float_labels_rejected():
    with pytest.raises(TypeError, match="integer class indices"):
        fresh().initialize([0, 1], np.array([0.0, 1.0]))


def test_scalar_labels_rejected():
    with pytest.raises(ValueError, match="scalar"):
        fresh().initialize([0], 1)


def test_bad_indices():
    learner = fresh()
    with pytest.raises(IndexError, match="outside the pool"):
        learner.initialize([0, 500], [0, 1])
    with pytest.raises(ValueError, match="duplicates"):
        learner.initialize([1, 1], [0, 0])
    with pytest.raises(ValueError, match="at least one"):
        learner.initialize([], [])
    with pytest.raises(TypeError, match="integers"):
        learner.initialize([0.5], [0])


def test_initialize_on_ignored_item():
    learner = fresh()
    learner.ignore([4])
    with pytest.raises(ValueError, match="ignored"):
        learner.initialize([3, 4], [0, 1])


def test_negative_query_size():
    with pytest.raises(ValueError, match="n must be >= 0"):
        ready().query(-1)


def test_ignore_everything_labelled():
    learner = ready()
    with pytest.raises(ValueError, match="no labelled item"):
        learner.ignore(np.arange(10))
    assert learner.labeled_mask.sum() == 10 and not learner.ignored_mask.any()


def test_failed_fit_rolls_back_labels():
    class Boom(RuntimeError):
        pass

    calls = {"n": 0}

    def factory():
        calls["n"] += 1
        clf = logreg_factory(3)()
        if calls["n"] > 1:
            clf.fit = lambda *_: (_ for _ in ()).throw(Boom("fit failed"))
        return clf

    learner = ActiveLearner(factory, LeastConfidence(), X, num_classes=3, seed=0)
    learner.initialize(np.arange(10), Y[:10])
    result = learner.query(2)
    with pytest.raises(Boom):
        learner.update(Y[result.indices])
    assert learner.labeled_mask.sum() == 10
    np.testing.assert_array_equal(learner.indices_pending, result.indices)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"num_classes": 1}, "num_classes"), ({"num_classes": 3, "seed": -2}, "seed")],
)
def test_constructor_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ActiveLearner(logreg_factory(3), LeastConfidence(), X, **kwargs)


def test_empty_pool():
    with pytest.raises(ValueError, match="empty"):
        ActiveLearner(logreg_factory(3), LeastConfidence(), X[:0], num_classes=3)
