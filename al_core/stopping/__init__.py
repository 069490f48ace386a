"""Stopping criteria: when further labelling is no longer worth it.

Each criterion is built from configuration text (:mod:`al_core.stopping.spec`), judges one
:class:`StoppingContext` per training (built by :func:`build_context`) and says why it stops,
goes on, or cannot judge (a "not applicable" decision).
"""

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion
from al_core.stopping.budget import LabelBudget
from al_core.stopping.change import ClassificationChange, changed_fraction
from al_core.stopping.combine import AllOf, AnyOf
from al_core.stopping.context import build_context, criteria_needs, predictions_from_proba
from al_core.stopping.delta_f import DeltaFScore, f_agreement
from al_core.stopping.kappa import KappaAverage, cohen_kappa
from al_core.stopping.max_iterations import MaxIterations
from al_core.stopping.plateau import EvalPlateau
from al_core.stopping.spec import Spec, build_criteria, build_criterion, parse_spec, split_specs
from al_core.stopping.uncertainty import OverallUncertainty, normalized_entropy

REGISTRY: dict[str, type[StoppingCriterion]] = {
    cls.name: cls
    for cls in (
        MaxIterations,
        KappaAverage,
        DeltaFScore,
        ClassificationChange,
        OverallUncertainty,
        LabelBudget,
        EvalPlateau,
        AnyOf,
        AllOf,
    )
}

__all__ = [
    "REGISTRY",
    "AllOf",
    "AnyOf",
    "ClassificationChange",
    "DeltaFScore",
    "EvalPlateau",
    "KappaAverage",
    "LabelBudget",
    "MaxIterations",
    "OverallUncertainty",
    "Spec",
    "StopDecision",
    "StoppingContext",
    "StoppingCriterion",
    "build_context",
    "build_criteria",
    "build_criterion",
    "changed_fraction",
    "cohen_kappa",
    "criteria_needs",
    "f_agreement",
    "normalized_entropy",
    "parse_spec",
    "predictions_from_proba",
    "split_specs",
]
