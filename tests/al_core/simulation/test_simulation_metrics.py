"""al_core.metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.metrics import (
    accuracy,
    labels_to_target,
    macro_f1,
    micro_f1,
    normalized_auc,
    scores,
    spread,
)


def test_accuracy_single_label():
    assert accuracy([0, 1, 2, 1], [0, 1, 1, 1]) == pytest.approx(0.75)


def test_macro_f1_single_label():
    # class 0: P=1, R=1/2 -> F1=2/3; class 1: P=2/3, R=1 -> F1=4/5
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_macro_f1_counts_unpredicted_class_as_zero():
    # class 0: F1=2/3 (P=1/2, R=1); class 1: never predicted -> 0
    assert macro_f1([0, 1], [0, 0]) == pytest.approx(1 / 3)


def test_multi_label_subset_accuracy_and_macro_f1():
    y_true = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8)
    y_pred = np.array([[1, 0], [0, 0], [1, 1]], dtype=np.int8)
    assert accuracy(y_true, y_pred) == pytest.approx(2 / 3)
    # label 0: perfect -> 1; label 1: P=1, R=1/2 -> 2/3
    assert macro_f1(y_true, y_pred) == pytest.approx((1 + 2 / 3) / 2)


def test_metric_input_errors():
    with pytest.raises(ValueError, match="shape"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        macro_f1([], [])


def test_normalized_auc_hand_computed():
    # trapezoids: 10 * (0.5 + 0.7) / 2 + 20 * (0.7 + 0.9) / 2 = 6 + 16 = 22 over a range of 30
    assert normalized_auc([10, 20, 40], [0.5, 0.7, 0.9]) == pytest.approx(22 / 30)
    assert normalized_auc([0, 10], [0.0, 1.0]) == pytest.approx(0.5)


def test_normalized_auc_constant_and_single_point():
    assert normalized_auc([5, 15, 100], [0.7, 0.7, 0.7]) == pytest.approx(0.7)
    assert normalized_auc([25], [0.42]) == pytest.approx(0.42)
    assert normalized_auc([3, 3], [0.2, 0.4]) == pytest.approx(0.3)


def test_normalized_auc_bounds():
    assert normalized_auc([1, 2, 3], [1.0, 1.0, 1.0]) == 1.0
    assert normalized_auc([1, 2, 3], [0.0, 0.0, 0.0]) == 0.0


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([1, 2], [0.5], "equal length"),
        ([], [], "empty"),
        ([2, 1], [0.5, 0.6], "non-decreasing"),
        ([1, 2], [0.5, 1.5], r"\[0, 1\]"),
        ([1, 2], [0.5, float("nan")], "finite"),
    ],
)
def test_normalized_auc_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        normalized_auc(x, y)


def test_macro_f1_over_the_whole_label_set():
    # Classes 0 and 1 as in test_macro_f1_single_label (2/3 and 4/5); class 2 of the label
    # set is absent from both vectors and scores 0, so the mean runs over 3 classes.
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1], num_classes=3) == pytest.approx(
        (2 / 3 + 4 / 5 + 0) / 3
    )
    # A class predicted but absent from y_true counts 0 either way.
    assert macro_f1([0, 0], [0, 2], num_classes=3) == pytest.approx((2 / 3 + 0 + 0) / 3)
    with pytest.raises(ValueError, match="label columns"):
        macro_f1(np.zeros((2, 2)), np.zeros((2, 2)), num_classes=3)


def test_micro_f1_multi_label_and_single_label():
    y_true = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8)
    y_pred = np.array([[1, 0], [0, 0], [1, 1]], dtype=np.int8)
    # pooled: tp = 3, fp = 0, fn = 1 -> 2*3 / (2*3 + 0 + 1) = 6/7
    assert micro_f1(y_true, y_pred) == pytest.approx(6 / 7)
    assert micro_f1([0, 1, 2, 1], [0, 1, 1, 1]) == pytest.approx(0.75)  # = accuracy
    assert scores(y_true, y_pred, 2) == pytest.approx(
        {"accuracy": 2 / 3, "macro_f1": (1 + 2 / 3) / 2, "micro_f1": 6 / 7}
    )


def test_labels_to_target_and_spread():
    assert labels_to_target([10, 20, 30], [0.5, 0.8, 0.79], 0.8) == 20.0
    assert labels_to_target([10, 20, 30], [0.5, 0.6, 0.7], 0.8) is None
    s = spread([0.6, 0.8, 0.7])
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.7) and s["std"] == pytest.approx(0.1)
    assert (s["min"], s["max"]) == pytest.approx((0.6, 0.8))
    assert spread([0.5])["std"] is None
    with pytest.raises(ValueError):
        spread([])
