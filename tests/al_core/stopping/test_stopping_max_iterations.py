"""MaxIterations boundary cases."""

from __future__ import annotations

import pytest

from al_core.stopping import MaxIterations, StoppingContext


def ctx(iteration: int) -> StoppingContext:
    return StoppingContext(iteration=iteration, num_labeled=10 * iteration)


@pytest.mark.parametrize(
    ("max_iterations", "iteration", "stop"),
    [(3, 1, False), (3, 2, False), (3, 3, True), (3, 4, True), (1, 1, True), (5, 0, False)],
)
def test_stops_at_max(max_iterations, iteration, stop) -> None:
    decision = MaxIterations(max_iterations).check(ctx(iteration))
    assert decision.stop is stop
    assert decision.value == iteration
    assert str(max_iterations) in decision.reason


def test_sequence_stops_exactly_once_reached() -> None:
    crit = MaxIterations(4)
    stops = [crit.check(ctx(i)).stop for i in range(1, 7)]
    assert stops == [False, False, False, True, True, True]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_invalid_max_iterations(bad) -> None:
    with pytest.raises(ValueError):
        MaxIterations(bad)


def test_stateless() -> None:
    crit = MaxIterations(2)
    crit.check(ctx(1))
    assert crit.state_dict() == {}
    crit.load_state_dict({})
    assert crit.name == "max-iterations"
    assert repr(crit) == "MaxIterations(max_iterations=2)"
