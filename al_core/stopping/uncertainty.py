"""Overall uncertainty: stop when the model is confident about the unlabelled items.

Zhu, Wang & Hovy (2008), "Multi-Criteria-Based Strategy to Stop Active Learning for Data
Annotation", COLING, section "overall uncertainty": active learning stops when the average
uncertainty of the unlabelled examples falls to a threshold, uncertainty being the entropy of
the predicted class distribution.

The entropy is normalised to ``[0, 1]`` so one threshold works for any number of classes:
``u(x) = -sum_c p_c log p_c / log C`` (0: certain, 1: uniform). Multi-label: each label is a
binary distribution ``(p, 1 - p)``; ``u(x)`` is the mean of the labels' binary entropies over
``log 2``. The unlabelled examples are the stopping-set items without a label.
"""

from __future__ import annotations

import numpy as np

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion


def normalized_entropy(proba: np.ndarray, multi_label: bool = False) -> np.ndarray:
    """Per-row entropy in ``[0, 1]``: over classes (single-label) or mean binary (multi)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), 0.0, 1.0)
    if p.ndim != 2:
        raise ValueError(f"proba must be 2-D (n, C), got shape {p.shape}")
    if multi_label:
        q = 1.0 - p
        h = -(p * np.log(p, where=p > 0, out=np.zeros_like(p)))
        h -= q * np.log(q, where=q > 0, out=np.zeros_like(q))
        return h.mean(axis=1) / np.log(2.0)
    if p.shape[1] < 2:
        raise ValueError("single-label entropy needs at least 2 classes")
    h = -(p * np.log(p, where=p > 0, out=np.zeros_like(p))).sum(axis=1)
    return h / np.log(p.shape[1])


class OverallUncertainty(StoppingCriterion):
    """Stop when the mean normalised entropy of unlabelled stopping-set items <= ``threshold``.

    Stateless: each check looks at the current model only. ``value`` is the mean uncertainty.
    """

    name = "overall-uncertainty"
    description = "Stop when the mean prediction entropy on unlabelled items is low."
    needs = ("proba",)

    def __init__(self, threshold: float = 0.05) -> None:
        if not 0.0 <= float(threshold) < 1.0:
            raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
        self.threshold = float(threshold)

    def _check(self, ctx: StoppingContext) -> StopDecision:
        proba = np.asarray(ctx.proba, dtype=np.float64)
        if ctx.unlabeled is not None:
            mask = np.asarray(ctx.unlabeled, dtype=bool)
            if len(mask) != len(proba):
                raise ValueError(f"{self.name}: the unlabeled mask does not match proba")
            proba = proba[mask]
        if len(proba) == 0:
            return StopDecision.not_applicable("every stopping-set item is labelled")
        mean = float(normalized_entropy(proba, ctx.is_multi_label).mean())
        stop = mean <= self.threshold
        relation = "<=" if stop else ">"
        return StopDecision(
            stop,
            mean,
            f"mean normalised entropy of {len(proba)} unlabelled items {mean:.4f} "
            f"{relation} {self.threshold}",
        )

    def __repr__(self) -> str:
        return f"OverallUncertainty(threshold={self.threshold})"
