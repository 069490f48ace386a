"""One way to build a :class:`StoppingContext`, shared by the learner and the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from al_core.stopping.base import StoppingContext, StoppingCriterion


def predictions_from_proba(proba: np.ndarray, multi_label: bool) -> np.ndarray:
    """Class indices (argmax) or, for multi-label, the indicator matrix ``proba >= 0.5``."""
    proba = np.asarray(proba)
    if multi_label:
        return (proba >= 0.5).astype(np.int8)
    return proba.argmax(axis=1) if len(proba) else np.empty(0, dtype=np.int64)


def build_context(
    *,
    iteration: int,
    num_labeled: int,
    proba: np.ndarray | None = None,
    multi_label: bool = False,
    labeled: np.ndarray | None = None,
    eval_metrics: Mapping[str, float | None] | None = None,
) -> StoppingContext:
    """The context of one check.

    ``proba`` is the current model's ``predict_proba`` on the stopping set (None or empty when
    there is none); predictions are derived from it. ``labeled`` marks the stopping-set rows
    that carry a label now. ``eval_metrics`` are the model's scores on a labelled evaluation
    set; ``None`` values are dropped, and an empty mapping means no evaluation set.
    """
    if iteration < 0 or num_labeled < 0:
        raise ValueError(f"iteration and num_labeled must be >= 0, got {iteration}, {num_labeled}")
    predictions = None
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        if len(proba) == 0:
            proba = None
        else:
            predictions = predictions_from_proba(proba, multi_label)
    unlabeled = None
    if labeled is not None:
        unlabeled = ~np.asarray(labeled, dtype=bool)
        if proba is not None and len(unlabeled) != len(proba):
            raise ValueError(f"labeled has {len(unlabeled)} rows, the stopping set {len(proba)}")
    metrics = {k: float(v) for k, v in (eval_metrics or {}).items() if v is not None}
    return StoppingContext(
        iteration=int(iteration),
        num_labeled=int(num_labeled),
        predictions=predictions,
        proba=proba,
        multi_label=bool(multi_label),
        unlabeled=unlabeled,
        eval_metrics=metrics or None,
    )


def criteria_needs(criteria: Iterable[StoppingCriterion]) -> set[str]:
    """What any of ``criteria`` (combinations included) needs from the context."""
    needs: set[str] = set()
    for c in criteria:
        needs.update(c.needs)
        needs.update(criteria_needs(getattr(c, "criteria", ())))
    return needs
