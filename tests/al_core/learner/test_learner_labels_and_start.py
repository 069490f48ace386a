"""Removing labels, starting from a trained model, stopping checks and the shared seeds."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.learner import ActiveLearner, LearnerStateError
from al_core.seeding import derive_seed, selection_seed
from al_core.stopping import build_criteria
from tests.al_core.learner.al_fakes import (
    LeastConfidence,
    RandomInit,
    RandomQuery,
    RecordingCriterion,
    logreg_factory,
    make_data,
)

X, Y = make_data()


def started(strategy=None, seed=0, **kwargs) -> ActiveLearner:
    learner = ActiveLearner(
        logreg_factory(3), strategy or LeastConfidence(), X, num_classes=3, seed=seed, **kwargs
    )
    learner.initialize_with(RandomInit(), 12, y_gold=Y)
    return learner


def trained_model():
    clf = logreg_factory(3)()
    clf.fit(X[:40], Y[:40])
    return clf


def test_remove_labels_makes_items_candidates_again():
    learner = started()
    learner.update(Y[learner.query(5).indices])
    gone = learner.indices_labeled[:3]
    before = learner.classifier
    learner.remove_labels(gone)
    assert not learner.labeled_mask[gone].any() and not learner.ignored_mask[gone].any()
    assert set(gone) <= set(learner.indices_unlabeled)
    assert len(learner.indices_labeled) == 14 and learner.classifier is not before
    assert learner.iteration == 1  # not a query round
    with pytest.raises(ValueError, match="have no label"):
        learner.remove_labels(gone[:1])


def test_removing_every_label_needs_a_starting_model():
    learner = started()
    labels = learner.labels
    with pytest.raises(ValueError, match="no labelled item to train on"):
        learner.remove_labels(learner.indices_labeled)
    np.testing.assert_array_equal(learner.labels, labels)  # rolled back
    with pytest.raises(ValueError, match="no labelled item to train on"):
        learner.ignore(learner.indices_labeled)
    assert not learner.ignored_mask.any()


def test_start_from_a_trained_model_without_labels():
    base = trained_model()
    learner = ActiveLearner(logreg_factory(3), LeastConfidence(), X, num_classes=3, seed=0)
    learner.initialize_from_model(base)
    assert learner.initialized and learner.iteration == 0 and len(learner.indices_labeled) == 0
    assert learner.classifier is base
    first = learner.query(10)
    # The given model chose: least confident items under it.
    conf = base.predict_proba(X).max(axis=1)
    assert set(first.indices) == set(np.argsort(conf, kind="stable")[:10])
    learner.update(Y[first.indices])
    assert learner.iteration == 1 and learner.classifier is not base
    assert len(learner.indices_labeled) == 10
    learner.remove_labels(learner.indices_labeled)  # back to the starting model
    assert learner.classifier is base and len(learner.indices_unlabeled) == len(X)
    with pytest.raises(LearnerStateError, match="already initialized"):
        learner.initialize_from_model(base)
    with pytest.raises(TypeError, match="predict_proba"):
        ActiveLearner(logreg_factory(3), LeastConfidence(), X, num_classes=3).initialize_from_model(
            object()
        )


def test_check_stop_context_matches_the_learner():
    criterion = RecordingCriterion(max_labels=10_000)
    learner = started(stopping=[criterion])
    rows = np.arange(0, 300, 3)
    learner.check_stop(rows, eval_metrics={"accuracy": 0.5, "macro_f1": None})
    ctx = criterion.seen[-1]
    np.testing.assert_array_equal(ctx.unlabeled, ~learner.labeled_mask[rows])
    assert ctx.eval_metrics == {"accuracy": 0.5} and ctx.iteration == 0


def test_real_criteria_through_the_learner():
    criteria = build_criteria(
        "max-iterations(max_iterations=1),eval-plateau(patience=1,min_delta=0.5),classification-change",
        num_classes=3,
    )
    learner = started(stopping=criteria)
    first = learner.check_stop(np.arange(100))
    assert [d.kind for d in first] == ["continue", "not-applicable", "continue"]
    learner.update(Y[learner.query(10).indices])
    second = learner.check_stop(np.arange(100), eval_metrics={"accuracy": 0.7})
    assert second[0].stop and second[0].reason == "iteration 1 reached max_iterations=1"
    assert second[1].kind == "continue"  # first score recorded; needs patience + 1
    assert second[2].applicable and 0.0 <= second[2].value <= 1.0


def test_queries_use_the_shared_selection_seeds():
    learner = started(RandomQuery(), seed=7)
    labeled = learner.indices_labeled
    expected = RandomQuery().query(
        learner.classifier,
        X,
        learner.indices_unlabeled,
        labeled,
        Y[labeled],
        5,
        seed=selection_seed(7, 1),
    )
    np.testing.assert_array_equal(learner.query(5).indices, expected.indices)
    assert selection_seed(7, 0) == derive_seed(7)  # round 0: the initial selection
    assert selection_seed(None, 3) is None
    with pytest.raises(ValueError):
        selection_seed(1, -1)
