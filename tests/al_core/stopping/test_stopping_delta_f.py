"""DeltaFScore (Altschuler & Bloodgood 2019) against hand-computed F agreements."""

from __future__ import annotations

import json

import numpy as np
import pytest

from al_core.stopping import DeltaFScore, StoppingContext, f_agreement


def ctx(predictions, iteration: int = 0) -> StoppingContext:
    return StoppingContext(iteration, 10, predictions=np.asarray(predictions))


def test_binary_counts_only_the_positive_class():
    # a = both positive (rows 0, 4) = 2; b = only previous (row 1) = 1; c = only current
    # (row 3) = 1. F = 2a / (2a + b + c) = 4 / 6; rows 2 and 5 (both negative) do not count.
    prev = np.array([1, 1, 0, 0, 1, 0])
    cur = np.array([1, 0, 0, 1, 1, 0])
    assert f_agreement(prev, cur, 2) == pytest.approx(2 / 3)
    # Adding agreeing negatives changes nothing: true negatives are not in F.
    more = np.r_[prev, [0] * 10], np.r_[cur, [0] * 10]
    assert f_agreement(*more, 2) == pytest.approx(2 / 3)


def test_multiclass_is_the_mean_one_vs_rest_agreement():
    prev = np.array([0, 0, 1, 1, 2, 2])
    cur = np.array([0, 1, 1, 1, 2, 0])
    # class 0: a=1 (row 0), b=1 (row 1), c=1 (row 5) -> 2/4
    # class 1: a=2 (rows 2, 3), b=0, c=1 (row 1)    -> 4/5
    # class 2: a=1 (row 4), b=1 (row 5), c=0        -> 2/3
    assert f_agreement(prev, cur, 3) == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)  # 59/90
    # A class neither model predicts (class 3 of 4) is left out, not counted as 0 or 1.
    assert f_agreement(prev, cur, 4) == pytest.approx(59 / 90)


def test_multilabel_is_the_mean_per_label_agreement():
    prev = np.array([[1, 0], [1, 1], [0, 0]])
    cur = np.array([[1, 0], [0, 1], [0, 1]])
    # label 0: a=1, b=1, c=0 -> 2/3; label 1: a=1, b=0, c=1 -> 2/3
    assert f_agreement(prev, cur, 2) == pytest.approx(2 / 3)


def test_no_positive_at_all_is_perfect_agreement():
    assert f_agreement(np.zeros(5, int), np.zeros(5, int), 2) == 1.0
    assert f_agreement(np.zeros((3, 4), int), np.zeros((3, 4), int), 4) == 1.0


def test_stops_when_every_delta_in_the_window_is_below_threshold():
    crit = DeltaFScore(num_classes=2, threshold=0.2, window_size=2)
    a = [1, 1, 0, 0, 1, 0]
    b = [1, 0, 0, 1, 1, 0]  # dF(a, b) = 1/3
    first = crit.check(ctx(a))
    assert (first.stop, first.value) == (False, None) and "recorded" in first.reason
    d1 = crit.check(ctx(b))
    assert d1.value == pytest.approx(1 / 3) and not d1.stop and "1 of 2" in d1.reason
    d2 = crit.check(ctx(b))  # dF = 0, but the window still holds 1/3
    assert d2.value == pytest.approx(1 / 3) and not d2.stop
    d3 = crit.check(ctx(b))  # window [0, 0]
    assert d3.stop and d3.value == 0.0 and "< 0.2" in d3.reason
    assert crit.deltas == pytest.approx([1 / 3, 0.0, 0.0])


def test_state_round_trip_and_not_applicable_keeps_history():
    crit = DeltaFScore(num_classes=3, window_size=2)
    crit.check(ctx([0, 1, 2, 2]))
    crit.check(ctx([0, 1, 2, 0]))
    copy = DeltaFScore(num_classes=3, window_size=2)
    copy.load_state_dict(json.loads(json.dumps(crit.state_dict())))
    na = copy.check(StoppingContext(2, 10, predictions=None))
    assert not na.applicable and "stopping set is empty" in na.reason
    assert copy.check(ctx([0, 1, 2, 0])) == crit.check(ctx([0, 1, 2, 0]))


def test_errors():
    with pytest.raises(ValueError, match="threshold"):
        DeltaFScore(num_classes=2, threshold=0)
    with pytest.raises(ValueError, match="stopping set changed"):
        crit = DeltaFScore(num_classes=2)
        crit.check(ctx([0, 1]))
        crit.check(ctx([0, 1, 1]))
    with pytest.raises(ValueError, match="no previous"):
        DeltaFScore(num_classes=2).load_state_dict({"deltas": [0.1]})
