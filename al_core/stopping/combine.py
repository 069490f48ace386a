"""Combinations of criteria: stop when any (or all) of several criteria say stop.

Every child is checked on every iteration, whatever the others say, so criteria with history
keep it complete. Not-applicable children are handled conservatively:

* ``any``: judges with the applicable children; not applicable only when none applies;
* ``all``: not applicable as soon as one child is (a conjunction with a part that cannot be
  judged can never be shown true).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class _Combination(StoppingCriterion):
    def __init__(self, criteria: Sequence[StoppingCriterion]) -> None:
        criteria = list(criteria)
        if not criteria:
            raise ValueError(f"{self.name} needs at least one criterion")
        for c in criteria:
            if not isinstance(c, StoppingCriterion):
                raise TypeError(f"{self.name} combines stopping criteria, got {c!r}")
        self.criteria = criteria

    def _check(self, ctx: StoppingContext) -> StopDecision:
        # A combination needs nothing itself: its children judge applicability one by one.
        return self._combine([c.check(ctx) for c in self.criteria])

    @abstractmethod
    def _combine(self, decisions: list[StopDecision]) -> StopDecision:
        """One decision from the children's decisions (in the order of ``criteria``)."""

    def _lines(self, decisions: list[StopDecision], which) -> str:
        return "; ".join(
            f"{c.label}: {d.reason.removeprefix('not applicable: ')}"
            for c, d in zip(self.criteria, decisions, strict=True)
            if which(d)
        )

    def state_dict(self) -> dict[str, Any]:
        return {"criteria": [c.state_dict() for c in self.criteria]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        states = state.get("criteria", [])
        if len(states) != len(self.criteria):
            raise ValueError(
                f"{self.name} state holds {len(states)} criteria, expected {len(self.criteria)}"
            )
        for c, s in zip(self.criteria, states, strict=True):
            c.load_state_dict(s)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.criteria!r})"


class AnyOf(_Combination):
    """Stop when at least one applicable criterion says stop. ``value``: how many did."""

    name = "any"
    description = "Stop when any of the given criteria says stop."

    def _combine(self, decisions: list[StopDecision]) -> StopDecision:
        applicable = [d for d in decisions if d.applicable]
        if not applicable:
            return StopDecision.not_applicable(
                "no criterion applies (" + self._lines(decisions, lambda d: True) + ")"
            )
        fired = sum(d.stop for d in applicable)
        if fired:
            return StopDecision(True, float(fired), self._lines(decisions, lambda d: d.stop))
        return StopDecision(False, 0.0, f"none of {len(applicable)} applicable criteria says stop")


class AllOf(_Combination):
    """Stop when every criterion says stop. ``value``: how many do."""

    name = "all"
    description = "Stop when all of the given criteria say stop."

    def _combine(self, decisions: list[StopDecision]) -> StopDecision:
        if not all(d.applicable for d in decisions):
            return StopDecision.not_applicable(self._lines(decisions, lambda d: not d.applicable))
        fired = sum(d.stop for d in decisions)
        if fired == len(decisions):
            return StopDecision(True, float(fired), self._lines(decisions, lambda d: True))
        waiting = self._lines(decisions, lambda d: not d.stop)
        return StopDecision(
            False, float(fired), f"{fired} of {len(decisions)} say stop; waiting for {waiting}"
        )
