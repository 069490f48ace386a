"""Stopping criteria: when further labelling is no longer worth it."""

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion
from al_core.stopping.kappa import KappaAverage, cohen_kappa
from al_core.stopping.max_iterations import MaxIterations

REGISTRY: dict[str, type[StoppingCriterion]] = {
    cls.name: cls for cls in (MaxIterations, KappaAverage)
}

__all__ = [
    "REGISTRY",
    "KappaAverage",
    "MaxIterations",
    "StopDecision",
    "StoppingContext",
    "StoppingCriterion",
    "cohen_kappa",
]
