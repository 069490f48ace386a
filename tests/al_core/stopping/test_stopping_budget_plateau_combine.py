"""LabelBudget, EvalPlateau (patience rule) and any/all combinations, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.stopping import (
    AllOf,
    AnyOf,
    EvalPlateau,
    KappaAverage,
    LabelBudget,
    MaxIterations,
    StoppingContext,
)


def test_label_budget():
    crit = LabelBudget(budget=30)
    below = crit.check(StoppingContext(5, 29))
    assert (below.stop, below.value, below.reason) == (
        False,
        29.0,
        "29 labels below the budget of 30",
    )
    assert crit.check(StoppingContext(5, 30)).stop
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError):
            LabelBudget(budget=bad)


def test_eval_plateau_patience_rule():
    crit = EvalPlateau(patience=3, min_delta=0.02)
    decisions = [
        crit.check(StoppingContext(i, 10, eval_metrics={"accuracy": s}))
        for i, s in enumerate([0.5, 0.6, 0.61, 0.605, 0.609])
    ]
    assert [d.value for d in decisions[:3]] == [None, None, None]
    # 4 scores: best of the last 3 (0.61) minus best before (0.5) = 0.11 > 0.02
    assert not decisions[3].stop and decisions[3].value == pytest.approx(0.11)
    # 5 scores: max(0.61, 0.605, 0.609) - max(0.5, 0.6) = 0.01 <= 0.02
    assert decisions[4].stop and decisions[4].value == pytest.approx(0.01)
    assert crit.scores == [0.5, 0.6, 0.61, 0.605, 0.609]


def test_eval_plateau_not_applicable_without_scores():
    crit = EvalPlateau(metric="macro_f1")
    for metrics in (None, {}, {"accuracy": 0.5}):
        d = crit.check(StoppingContext(0, 10, eval_metrics=metrics))
        assert not d.applicable
    assert crit.scores == []  # nothing recorded
    restored = EvalPlateau()
    restored.load_state_dict({"scores": [0.1, 0.2]})
    assert restored.scores == [0.1, 0.2]


def test_any_and_all():
    def combos():
        return AnyOf([LabelBudget(20), MaxIterations(3)]), AllOf(
            [LabelBudget(20), MaxIterations(3)]
        )

    any_, all_ = combos()
    c = StoppingContext(iteration=1, num_labeled=25)  # budget fired, iterations not
    a, b = any_.check(c), all_.check(c)
    assert a.stop and a.value == 1.0 and a.reason.startswith("label-budget: 25 labels reached")
    assert not b.stop and b.value == 1.0 and "waiting for max-iterations" in b.reason
    c = StoppingContext(iteration=3, num_labeled=25)
    assert any_.check(c).value == 2.0 and all_.check(c).stop


def test_not_applicable_children():
    multi = StoppingContext(iteration=3, num_labeled=25, predictions=np.zeros((4, 2), int))
    any_ = AnyOf([KappaAverage(num_classes=2), MaxIterations(3)])
    assert any_.check(multi).stop  # kappa cannot judge multi-label; max-iterations can
    all_ = AllOf([KappaAverage(num_classes=2), MaxIterations(3)])
    d = all_.check(multi)
    assert not d.applicable and "kappa-average supports single-label tasks only" in d.reason
    only_na = AnyOf([KappaAverage(num_classes=2)]).check(multi)
    assert not only_na.applicable and "no criterion applies" in only_na.reason


def test_combination_state_round_trip():
    crit = AnyOf([KappaAverage(num_classes=2, window_size=1), LabelBudget(100)])
    crit.check(StoppingContext(0, 5, predictions=np.array([0, 1, 1])))
    state = crit.state_dict()
    assert state["criteria"][0]["previous_predictions"] == [0, 1, 1]
    copy = AnyOf([KappaAverage(num_classes=2, window_size=1), LabelBudget(100)])
    copy.load_state_dict(state)
    again = StoppingContext(1, 10, predictions=np.array([0, 1, 1]))
    assert copy.check(again) == crit.check(again)
    assert copy.check(again).stop  # kappa 1.0 >= 0.99 with a window of 1
    with pytest.raises(ValueError, match="holds 1 criteria"):
        copy.load_state_dict({"criteria": [{}]})
