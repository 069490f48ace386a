"""Stop after a fixed number of query rounds (a labelling budget counted in batches)."""

from __future__ import annotations

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class MaxIterations(StoppingCriterion):
    """Stop once ``ctx.iteration`` reaches ``max_iterations``.

    ``ctx.iteration`` counts the query rounds the current model has learned from (0 for the
    first model), so ``MaxIterations(k)`` stops after the initial labels plus ``k`` labelled
    batches, in the learner, the simulation and the pipeline alike.
    """

    name = "max-iterations"
    description = "Stop after a fixed number of query rounds."

    def __init__(self, max_iterations: int) -> None:
        if isinstance(max_iterations, bool) or int(max_iterations) != max_iterations:
            raise ValueError(f"max_iterations must be an integer, got {max_iterations!r}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        self.max_iterations = int(max_iterations)

    def _check(self, ctx: StoppingContext) -> StopDecision:
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
