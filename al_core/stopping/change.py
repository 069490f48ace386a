"""Classification change: stop when a retrained model changes no prediction on unlabelled items.

Zhu, Wang & Hovy (2008), "Multi-Criteria-Based Strategy to Stop Active Learning for Data
Annotation", COLING, section "classification change": active learning stops when no
unlabelled example changes its predicted class between two consecutive iterations, i.e. the
newly labelled batch taught the model nothing it applies to the rest of the pool.

Here the unlabelled examples are the stopping-set items that still have no label (the fixed
stopping set stands in for the pool, as for the other stability criteria; items labelled in the
meantime are left out, as in the paper). ``threshold`` relaxes the rule: stop when the fraction
of changed predictions is at most ``threshold`` (the paper's rule is ``threshold=0``). A
multi-label prediction counts as changed when any of its labels flips.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion
from al_core.stopping.history import PredictionHistory


def changed_fraction(
    previous: np.ndarray, current: np.ndarray, unlabeled: np.ndarray | None = None
) -> tuple[int, int]:
    """(changed, compared): predictions that differ, among the ``unlabeled`` rows (all if None)."""
    differs = previous != current
    if differs.ndim == 2:
        differs = differs.any(axis=1)
    if unlabeled is not None:
        differs = differs[np.asarray(unlabeled, dtype=bool)]
    return int(differs.sum()), int(len(differs))


class ClassificationChange(StoppingCriterion):
    """Stop when at most ``threshold`` of the unlabelled stopping-set predictions changed.

    The first check records predictions; each later one compares with the previous model's.
    ``value`` is the fraction of compared items whose prediction changed.
    """

    name = "classification-change"
    description = "Stop when retraining changes (almost) no prediction on unlabelled items."
    needs = ("predictions",)

    def __init__(self, num_classes: int, threshold: float = 0.0) -> None:
        if not 0.0 <= float(threshold) < 1.0:
            raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
        self.num_classes = int(num_classes)
        self.threshold = float(threshold)
        self._history = PredictionHistory(self.name, self.num_classes)

    def _check(self, ctx: StoppingContext) -> StopDecision:
        previous = self._history.swap(ctx.predictions)
        if previous is None:
            n = len(self._history.previous)
            return StopDecision(False, None, f"recorded first predictions on {n} items")
        unlabeled = ctx.unlabeled
        if unlabeled is not None and len(unlabeled) != len(previous):
            raise ValueError(f"{self.name}: the unlabeled mask does not match the stopping set")
        changed, compared = changed_fraction(previous, self._history.previous, unlabeled)
        if compared == 0:
            return StopDecision.not_applicable("every stopping-set item is labelled")
        fraction = changed / compared
        stop = fraction <= self.threshold
        relation = "<=" if stop else ">"
        return StopDecision(
            stop,
            fraction,
            f"{changed} of {compared} unlabelled predictions changed "
            f"({fraction:.4f} {relation} {self.threshold})",
        )

    def state_dict(self) -> dict[str, Any]:
        return {"previous_predictions": self._history.to_json()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._history.load_json(state.get("previous_predictions"))

    def __repr__(self) -> str:
        return f"ClassificationChange(num_classes={self.num_classes}, threshold={self.threshold})"
