"""Stop when the score on a labelled evaluation set has stopped improving (a plateau).

The patience rule of early stopping (Prechelt, 1998, "Early Stopping - But When?", in *Neural
Networks: Tricks of the Trade*), applied to the active-learning curve instead of training
epochs: with scores ``s_0 .. s_t`` of the models so far on the evaluation set, stop at ``t``
when the last ``patience`` scores improved on the best earlier score by at most
``min_delta``::

    max(s_{t-patience+1} .. s_t) - max(s_0 .. s_{t-patience}) <= min_delta

It needs ``patience + 1`` scores. Only a labelled held-out set makes this honest: in a
simulation the test set plays that role, which makes the stop point optimistic (it reads labels
a real team would have to pay for).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class EvalPlateau(StoppingCriterion):
    """Stop when ``metric`` on the evaluation set gained <= ``min_delta`` in ``patience`` rounds.

    ``value`` is the gain of the last ``patience`` scores over the best earlier score. Without
    evaluation scores (or without ``metric`` among them) the decision is "not applicable" and
    nothing is recorded.
    """

    name = "eval-plateau"
    description = "Stop when the evaluation-set score stops improving (patience rule)."
    needs = ("eval",)

    def __init__(self, patience: int = 3, min_delta: float = 0.005, metric: str = "accuracy"):
        if isinstance(patience, bool) or int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not 0.0 <= float(min_delta) < 1.0:
            raise ValueError(f"min_delta must lie in [0, 1), got {min_delta}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.metric = str(metric)
        self._scores: list[float] = []

    @property
    def scores(self) -> list[float]:
        return list(self._scores)

    def not_applicable_reason(self, ctx: StoppingContext) -> str | None:
        why = super().not_applicable_reason(ctx)
        if why is None and ctx.eval_metrics.get(self.metric) is None:
            return f"no {self.metric!r} among the evaluation scores"
        return why

    def _check(self, ctx: StoppingContext) -> StopDecision:
        score = float(ctx.eval_metrics[self.metric])
        if not np.isfinite(score):
            raise ValueError(f"{self.name}: {self.metric} is not a finite number: {score}")
        self._scores.append(score)
        p = self.patience
        if len(self._scores) <= p:
            return StopDecision(
                False, None, f"{len(self._scores)} of {p + 1} {self.metric} scores needed"
            )
        gain = max(self._scores[-p:]) - max(self._scores[:-p])
        stop = gain <= self.min_delta
        relation = "<=" if stop else ">"
        return StopDecision(
            stop,
            float(gain),
            f"{self.metric} gained {gain:+.4f} in the last {p} iterations "
            f"({relation} {self.min_delta})",
        )

    def state_dict(self) -> dict[str, Any]:
        return {"scores": list(self._scores)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._scores = [float(s) for s in state.get("scores", [])]

    def __repr__(self) -> str:
        return (
            f"EvalPlateau(patience={self.patience}, min_delta={self.min_delta}, "
            f"metric={self.metric!r})"
        )
