"""simulate(): curve length, label counts, pool exhaustion, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.simulation import SimulationRun, simulate
from tests.al_core.learner.al_fakes import (
    LeastConfidence,
    RandomInit,
    RandomQuery,
    StratifiedInit,
    logreg_factory,
    make_data,
    make_multilabel,
)

X, Y = make_data(n_samples=300)
X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = X[:200], Y[:200], X[200:], Y[200:]


def run(strategy=None, *, seed=0, X_train=X_TRAIN, y_train=Y_TRAIN, **kwargs) -> SimulationRun:
    params = {"initial": 12, "batch_size": 8, "iterations": 4} | kwargs
    return simulate(
        X_train,
        y_train,
        X_TEST,
        Y_TEST,
        classifier_factory=logreg_factory(3),
        strategy=strategy or LeastConfidence(),
        initializer=RandomInit(),
        seed=seed,
        **params,
    )


def test_points_and_label_counts():
    calls: list[int] = []
    result = run(progress_callback=calls.append)
    assert result.strategy == "least-confidence" and result.seed == 0
    assert result.labels == [12, 20, 28, 36, 44]
    assert len(result.accuracy) == len(result.macro_f1) == 5
    assert all(0.0 <= v <= 1.0 for v in result.accuracy + result.macro_f1)
    assert calls == [1, 2, 3, 4]
    assert result.query_seconds > 0 and result.train_seconds > 0
    assert result.wall_seconds >= result.query_seconds + result.train_seconds
    assert result.accuracy[-1] > 0.5  # the toy problem is learnable


def test_zero_iterations_gives_the_initial_point_only():
    result = run(iterations=0)
    assert result.labels == [12] and len(result.accuracy) == 1


def test_stops_early_when_pool_runs_out():
    calls: list[int] = []
    result = run(
        X_train=X_TRAIN[:30],
        y_train=Y_TRAIN[:30],
        initial=10,
        batch_size=8,
        iterations=6,
        progress_callback=calls.append,
    )
    assert result.labels == [10, 18, 26, 30]
    assert len(result.accuracy) == 4 and calls == [1, 2, 3]


def test_deterministic_under_seed():
    a, b, c = run(RandomQuery(), seed=5), run(RandomQuery(), seed=5), run(RandomQuery(), seed=6)
    assert (a.labels, a.accuracy, a.macro_f1) == (b.labels, b.accuracy, b.macro_f1)
    assert a.accuracy != c.accuracy or a.macro_f1 != c.macro_f1


def test_stratified_initializer_sees_gold_labels():
    init = StratifiedInit()
    result = simulate(
        X_TRAIN,
        Y_TRAIN,
        X_TEST,
        Y_TEST,
        classifier_factory=logreg_factory(3),
        strategy=RandomQuery(),
        initializer=init,
        initial=9,
        batch_size=5,
        iterations=1,
        seed=0,
        name="random-stratified",
    )
    np.testing.assert_array_equal(init.seen_y, Y_TRAIN)
    assert result.strategy == "random-stratified" and result.labels == [9, 14]


def test_multi_label_simulation():
    Xm, Ym = make_multilabel(n_samples=160)
    result = simulate(
        Xm[:120],
        Ym[:120],
        Xm[120:],
        Ym[120:],
        classifier_factory=logreg_factory(3, multi_label=True),
        strategy=LeastConfidence(),
        initializer=RandomInit(),
        initial=20,
        batch_size=10,
        iterations=2,
        seed=1,
    )
    assert result.labels == [20, 30, 40] and len(result.macro_f1) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"initial": 0}, "initial"),
        ({"batch_size": 0}, "batch_size"),
        ({"iterations": -1}, "iterations"),
    ],
)
def test_argument_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_mismatched_gold_labels():
    with pytest.raises(ValueError, match="y_train"):
        run(y_train=Y_TRAIN[:-1])


def test_stopping_points_are_recorded_and_the_run_goes_on():
    result = run(
        stopping=[
            "max-iterations(max_iterations=2)",
            "label-budget(budget=28)",
            "eval-plateau(patience=1,min_delta=0.99)",
            "kappa-average",
        ],
        stopping_indices=np.arange(60),
    )
    assert result.labels == [12, 20, 28, 36, 44]  # the full budget, whatever fired
    points = {name: info["point"] for name, info in result.stopping.items()}
    assert points["max-iterations(max_iterations=2)"] == 2  # iteration 2 = point 2
    assert points["label-budget(budget=28)"] == 2  # 28 labels
    assert points["eval-plateau(min_delta=0.99,patience=1)"] == 1  # 2 scores, gain <= 0.99
    assert (
        result.stopping["label-budget(budget=28)"]["reason"] == "28 labels reached the budget of 28"
    )
    assert all(info["applicable"] for info in result.stopping.values())
    assert result.micro_f1 == result.accuracy  # single-label: micro-F1 is accuracy


def test_multi_label_simulation_with_stopping():
    Xm, Ym = make_multilabel(n_samples=160)
    result = simulate(
        Xm[:120],
        Ym[:120],
        Xm[120:],
        Ym[120:],
        classifier_factory=logreg_factory(3, multi_label=True),
        strategy=RandomQuery(),
        initializer=RandomInit(),
        initial=20,
        batch_size=10,
        iterations=3,
        seed=1,
        stopping=["kappa-average", "delta-f(window_size=1,threshold=1)"],
    )
    assert result.labels == [20, 30, 40, 50] and len(result.micro_f1) == 4
    assert all(0.0 <= v <= 1.0 for v in result.micro_f1 + result.macro_f1 + result.accuracy)
    kappa = result.stopping["kappa-average"]
    assert kappa == {
        "point": None,
        "reason": "not applicable: kappa-average supports single-label tasks only",
        "applicable": False,
    }
    assert result.stopping["delta-f(threshold=1,window_size=1)"]["point"] == 1
