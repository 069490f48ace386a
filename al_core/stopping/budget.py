"""Stop once a fixed number of labels has been spent: the budget a data team pays for."""

from __future__ import annotations

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


class LabelBudget(StoppingCriterion):
    """Stop once ``ctx.num_labeled`` (labelled pool items) reaches ``budget``.

    Stateless; ``value`` is the number of labelled items. Unlike ``max-iterations`` it counts
    labels, so partial batches, relabels and removed labels are accounted for exactly.
    """

    name = "label-budget"
    description = "Stop once a fixed number of items is labelled."

    def __init__(self, budget: int) -> None:
        if isinstance(budget, bool) or int(budget) != budget or budget < 1:
            raise ValueError(f"budget must be an integer >= 1, got {budget!r}")
        self.budget = int(budget)

    def _check(self, ctx: StoppingContext) -> StopDecision:
        n = int(ctx.num_labeled)
        stop = n >= self.budget
        verb = "reached" if stop else "below"
        return StopDecision(stop, float(n), f"{n} labels {verb} the budget of {self.budget}")

    def __repr__(self) -> str:
        return f"LabelBudget(budget={self.budget})"
