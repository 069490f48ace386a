"""KappaAverage (Bloodgood & Vijay-Shanker 2009) and the Cohen's kappa it is built on."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

import al_core.stopping as stopping
from al_core.stopping import KappaAverage, StoppingContext, cohen_kappa


def ctx(iteration: int, predictions) -> StoppingContext:
    return StoppingContext(
        iteration=iteration,
        num_labeled=10 * iteration,
        predictions=None if predictions is None else np.asarray(predictions),
    )


# Two small prediction vectors over 3 classes, worked by hand:
#   a = [0, 0, 1, 1, 2, 2, 0, 1]
#   b = [0, 1, 1, 1, 2, 0, 0, 1]
# agree at positions 0, 2, 3, 4, 6, 7 -> p_o = 6/8 = 0.75
# marginals a: class 0 x3, class 1 x3, class 2 x2;  b: class 0 x3, class 1 x4, class 2 x1
# p_e = (3*3 + 3*4 + 2*1) / 8^2 = 23/64 = 0.359375
# kappa = (0.75 - 0.359375) / (1 - 0.359375) = (25/64) / (41/64) = 25/41 = 0.6097560975...
VEC_A = [0, 0, 1, 1, 2, 2, 0, 1]
VEC_B = [0, 1, 1, 1, 2, 0, 0, 1]
KAPPA_AB = 25 / 41


def test_cohen_kappa_hand_computed() -> None:
    assert cohen_kappa(np.array(VEC_A), np.array(VEC_B), 3) == pytest.approx(0.6097560975)
    assert cohen_kappa(np.array(VEC_A), np.array(VEC_B), 3) == pytest.approx(KAPPA_AB)
    assert cohen_kappa(np.array(VEC_B), np.array(VEC_A), 3) == pytest.approx(KAPPA_AB)


def test_cohen_kappa_more_classes_than_seen() -> None:
    # Unused classes add empty rows and columns and do not change kappa.
    assert cohen_kappa(np.array(VEC_A), np.array(VEC_B), 7) == pytest.approx(KAPPA_AB)


def test_cohen_kappa_matches_sklearn_on_random_vectors() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, 4, size=50)
        b = np.where(rng.random(50) < 0.7, a, rng.integers(0, 4, size=50))
        assert cohen_kappa(a, b, 4) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_degenerate_cases() -> None:
    same_constant = np.full(5, 2)
    # p_e == 1: both constant and identical -> defined as 1.0
    assert cohen_kappa(same_constant, same_constant, 3) == 1.0
    # both constant, different classes: p_o = 0, p_e = 0 -> kappa 0
    assert cohen_kappa(np.zeros(5, int), np.ones(5, int), 3) == 0.0
    # perfect agreement that is not constant: kappa 1
    assert cohen_kappa(np.array(VEC_A), np.array(VEC_A), 3) == pytest.approx(1.0)
    # one constant vector: p_o = 2/4 = 0.5, p_e = (4*2)/16 = 0.5 -> kappa 0
    assert cohen_kappa(np.zeros(4, int), np.array([0, 0, 1, 1]), 2) == pytest.approx(0.0)
    # total disagreement between two balanced vectors: p_o = 0, p_e = 0.5 -> kappa -1
    assert cohen_kappa(np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0]), 2) == pytest.approx(-1.0)


def test_cohen_kappa_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        cohen_kappa(np.array([0, 1]), np.array([0, 1, 1]), 2)
    with pytest.raises(ValueError):
        cohen_kappa(np.array([], int), np.array([], int), 2)
    with pytest.raises(ValueError):
        cohen_kappa(np.array([0, 3]), np.array([0, 1]), 3)


def test_first_check_only_records() -> None:
    crit = KappaAverage(num_classes=3)
    decision = crit.check(ctx(1, VEC_A))
    assert decision.stop is False and decision.value is None
    assert crit.kappas == []


def test_value_is_current_window_mean() -> None:
    crit = KappaAverage(num_classes=3, kappa=0.99, window_size=3)
    crit.check(ctx(1, VEC_A))
    d = crit.check(ctx(2, VEC_B))
    assert d.stop is False and d.value == pytest.approx(KAPPA_AB)
    d = crit.check(ctx(3, VEC_B))  # kappa 1
    assert d.stop is False and d.value == pytest.approx((KAPPA_AB + 1) / 2)
    d = crit.check(ctx(4, VEC_B))  # kappa 1: window full, mean (25/41 + 2) / 3 = 0.8699 < 0.99
    assert d.stop is False and d.value == pytest.approx((KAPPA_AB + 2) / 3)
    d = crit.check(ctx(5, VEC_B))  # window is now [1, 1, 1]
    assert d.stop is True and d.value == pytest.approx(1.0)
    assert crit.kappas == pytest.approx([KAPPA_AB, 1.0, 1.0, 1.0])


def test_no_stop_before_window_is_full() -> None:
    crit = KappaAverage(num_classes=3, kappa=0.5, window_size=3)
    decisions = [crit.check(ctx(i, VEC_A)) for i in range(1, 6)]
    # kappas exist from iteration 2; three of them from iteration 4
    assert [d.stop for d in decisions] == [False, False, False, True, True]
    assert decisions[1].value == 1.0 and "1 of 3" in decisions[1].reason


def test_threshold_is_inclusive() -> None:
    crit = KappaAverage(num_classes=3, kappa=KAPPA_AB, window_size=1)
    crit.check(ctx(1, VEC_A))
    assert crit.check(ctx(2, VEC_B)).stop is True


def test_unstable_predictions_never_stop() -> None:
    crit = KappaAverage(num_classes=3, kappa=0.9, window_size=2)
    for i in range(1, 10):
        assert crit.check(ctx(i, VEC_A if i % 2 else VEC_B)).stop is False


def test_state_dict_round_trip_gives_same_decisions() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 3, size=30)
    history = [
        np.where(rng.random(30) < p, base, rng.integers(0, 3, 30))
        for p in (0.2, 0.5, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0)
    ]
    original = KappaAverage(num_classes=3, kappa=0.9, window_size=3)
    for i, preds in enumerate(history[:4], start=1):
        original.check(ctx(i, preds))
    state = json.loads(json.dumps(original.state_dict()))
    assert set(state) == {"previous_predictions", "kappas"}
    restored = KappaAverage(num_classes=3, kappa=0.9, window_size=3)
    restored.load_state_dict(state)
    assert restored.state_dict() == original.state_dict()
    for i, preds in enumerate(history[4:], start=5):
        assert restored.check(ctx(i, preds)) == original.check(ctx(i, preds))
    assert original.check(ctx(99, history[-1])).stop is True


def test_state_dict_of_fresh_criterion() -> None:
    crit = KappaAverage(num_classes=2)
    state = json.loads(json.dumps(crit.state_dict()))
    assert state == {"previous_predictions": None, "kappas": []}
    crit.load_state_dict(state)
    assert crit.check(ctx(1, [0, 1])).value is None


def test_load_state_dict_validates() -> None:
    crit = KappaAverage(num_classes=2)
    with pytest.raises(ValueError):
        crit.load_state_dict({"previous_predictions": [0, 5], "kappas": []})
    with pytest.raises(ValueError):
        crit.load_state_dict({"previous_predictions": None, "kappas": [0.5]})


@pytest.mark.parametrize(
    ("predictions", "why"),
    [
        (None, "stopping set is empty"),
        ([], "stopping set is empty"),
        ([[0, 1], [1, 0]], "single-label tasks only"),
    ],
    ids=["none", "empty", "multi-label"],
)
def test_not_applicable_is_a_decision_and_keeps_history(predictions, why) -> None:
    crit = KappaAverage(num_classes=3)
    crit.check(ctx(1, VEC_A))
    decision = crit.check(ctx(2, predictions))
    assert (decision.applicable, decision.stop, decision.value) == (False, False, None)
    assert decision.kind == "not-applicable"
    assert decision.reason.startswith("not applicable: ") and why in decision.reason
    assert crit.check(ctx(3, VEC_B)).value == pytest.approx(KAPPA_AB)  # history intact


def test_length_change_raises_and_keeps_history() -> None:
    crit = KappaAverage(num_classes=3)
    crit.check(ctx(1, VEC_A))
    with pytest.raises(ValueError, match="stopping set"):
        crit.check(ctx(2, VEC_A[:-1]))
    # the failed call recorded nothing
    assert crit.check(ctx(2, VEC_B)).value == pytest.approx(KAPPA_AB)


@pytest.mark.parametrize("bad", [[0, 3], [-1, 0], [0.5, 1.0], ["a", "b"]])
def test_bad_predictions_raise(bad) -> None:
    with pytest.raises(ValueError):
        KappaAverage(num_classes=3).check(ctx(1, bad))


def test_integral_float_predictions_accepted() -> None:
    crit = KappaAverage(num_classes=3)
    crit.check(ctx(1, np.array(VEC_A, dtype=float)))
    assert crit.check(ctx(2, VEC_B)).value == pytest.approx(KAPPA_AB)


@pytest.mark.parametrize(
    "kwargs",
    [{"num_classes": 1}, {"num_classes": 3, "kappa": 1.5}, {"num_classes": 3, "window_size": 0}],
)
def test_invalid_parameters(kwargs) -> None:
    with pytest.raises(ValueError):
        KappaAverage(**kwargs)


def test_registry() -> None:
    assert stopping.REGISTRY["kappa-average"] is stopping.KappaAverage
    assert stopping.REGISTRY["max-iterations"] is stopping.MaxIterations
    for name in stopping.__all__:
        assert hasattr(stopping, name)
    assert "\n" not in KappaAverage.description
