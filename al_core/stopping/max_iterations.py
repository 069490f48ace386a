"""Stop after a fixed number of active-learning iterations (a labelling budget in rounds)."""

from __future__ import annotations

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class MaxIterations(StoppingCriterion):
    """Stop once ``ctx.iteration`` (1-based) reaches ``max_iterations``."""

    name = "max-iterations"
    description = "Stop after a fixed number of iterations."

    def __init__(self, max_iterations: int) -> None:
        if isinstance(max_iterations, bool) or int(max_iterations) != max_iterations:
            raise ValueError(f"max_iterations must be an integer, got {max_iterations!r}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        self.max_iterations = int(max_iterations)

    def check(self, ctx: StoppingContext) -> StopDecision:
        it = int(ctx.iteration)
        stop = it >= self.max_iterations
        verb = "reached" if stop else "below"
        return StopDecision(
            stop=stop,
            value=float(it),
            reason=f"iteration {it} {verb} max_iterations={self.max_iterations}",
        )

    def __repr__(self) -> str:
        return f"MaxIterations(max_iterations={self.max_iterations})"
