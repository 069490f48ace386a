"""ClassificationChange and OverallUncertainty (Zhu, Wang & Hovy 2008), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.stopping import (
    ClassificationChange,
    OverallUncertainty,
    StoppingContext,
    build_context,
    changed_fraction,
    normalized_entropy,
)


def ctx(predictions=None, proba=None, unlabeled=None, multi_label=False) -> StoppingContext:
    return StoppingContext(
        1,
        10,
        predictions=None if predictions is None else np.asarray(predictions),
        proba=None if proba is None else np.asarray(proba, dtype=float),
        unlabeled=None if unlabeled is None else np.asarray(unlabeled),
        multi_label=multi_label,
    )


def test_changed_fraction_counts_unlabelled_rows_only():
    prev, cur = np.array([0, 1, 2, 0]), np.array([0, 2, 2, 1])
    assert changed_fraction(prev, cur) == (2, 4)  # rows 1 and 3 changed
    assert changed_fraction(prev, cur, np.array([1, 1, 0, 1], bool)) == (2, 3)
    assert changed_fraction(prev, cur, np.array([1, 0, 1, 0], bool)) == (0, 2)
    # Multi-label: a row changed when any label flipped.
    assert changed_fraction(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [1, 1]])) == (1, 2)


def test_classification_change_stops_when_nothing_changed():
    crit = ClassificationChange(num_classes=3)
    assert crit.check(ctx([0, 1, 2, 0], unlabeled=[1, 1, 1, 1])).value is None
    moved = crit.check(ctx([0, 2, 2, 1], unlabeled=[1, 1, 0, 1]))
    assert not moved.stop and moved.value == pytest.approx(2 / 3)
    assert "2 of 3 unlabelled predictions changed" in moved.reason
    still = crit.check(ctx([0, 2, 2, 1], unlabeled=[1, 1, 0, 1]))
    assert still.stop and still.value == 0.0


def test_classification_change_threshold_and_all_labelled():
    crit = ClassificationChange(num_classes=3, threshold=0.5)
    crit.check(ctx([0, 1, 2, 0]))
    assert crit.check(ctx([0, 2, 2, 0])).stop  # 1 of 4 = 0.25 <= 0.5
    na = crit.check(ctx([0, 2, 2, 0], unlabeled=[0, 0, 0, 0]))
    assert not na.applicable and "every stopping-set item is labelled" in na.reason
    with pytest.raises(ValueError):
        ClassificationChange(num_classes=3, threshold=1.0)


def test_normalized_entropy_by_hand():
    # [0.5, 0.5] -> ln 2 / ln 2 = 1; [1, 0] -> 0;
    # [0.9, 0.1] -> -(0.9 ln 0.9 + 0.1 ln 0.1) / ln 2 = 0.325083 / 0.693147 = 0.468996
    h = normalized_entropy(np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]]))
    assert h == pytest.approx([1.0, 0.0, 0.468996], abs=1e-6)
    assert normalized_entropy(np.full((1, 4), 0.25)) == pytest.approx([1.0])
    # Multi-label: per-label binary entropies 1 (p=0.5) and 0 (p=1), averaged.
    assert normalized_entropy(np.array([[0.5, 1.0]]), multi_label=True) == pytest.approx([0.5])


def test_overall_uncertainty_averages_unlabelled_rows():
    proba = [[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]]
    crit = OverallUncertainty(threshold=0.3)
    every = crit.check(ctx(proba=proba))
    assert not every.stop and every.value == pytest.approx((1 + 0 + 0.468996) / 3, abs=1e-6)
    some = crit.check(ctx(proba=proba, unlabeled=[0, 1, 1]))
    assert some.stop and some.value == pytest.approx(0.468996 / 2, abs=1e-6)
    assert "<= 0.3" in some.reason
    assert not crit.check(ctx(proba=proba, unlabeled=[0, 0, 0])).applicable
    assert not crit.check(ctx()).applicable  # no probabilities at all


def test_overall_uncertainty_multilabel_through_build_context():
    c = build_context(
        iteration=0, num_labeled=5, proba=np.array([[0.5, 1.0], [0.0, 1.0]]), multi_label=True
    )
    assert c.predictions.tolist() == [[1, 1], [0, 1]]
    assert OverallUncertainty(threshold=0.3).check(c).value == pytest.approx(0.25)
