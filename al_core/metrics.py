"""Evaluation metrics for learning curves.

Targets are encoded as in :mod:`al_core.labels`: a 1-D vector of class indices (single-label) or
a 2-D indicator matrix (multi-label). For multi-label targets ``accuracy`` is subset accuracy (a
row counts only when every label matches), ``micro_f1`` pools every (row, label) decision and
``macro_f1`` averages the per-label F1. ``normalized_auc`` condenses a learning curve into one
number in ``[0, 1]``; ``labels_to_target`` reads off the labels a curve needed to reach a score;
``spread`` summarises per-seed values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if y_true.ndim not in (1, 2):
        raise ValueError(
            f"targets must be 1-D (single-label) or 2-D (multi-label), got {y_true.ndim}-D"
        )
    if len(y_true) == 0:
        raise ValueError("cannot score an empty set of predictions")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of exactly correct rows (subset accuracy for multi-label indicator matrices)."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(accuracy_score(y_true, y_pred))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 (per-label F1 for multi-label).

    With ``num_classes`` the mean runs over every class of the label set, so the number means
    the same thing whatever classes a (small) evaluation set happens to contain. A class that
    is absent from both ``y_true`` and ``y_pred`` then scores 0: the set cannot show it was
    learned. Without ``num_classes`` (single-label) only classes present in ``y_true`` or
    ``y_pred`` count. A class never predicted scores 0 rather than raising, so early,
    degenerate models still get a number.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = None
    if num_classes is not None:
        if y_true.ndim == 2 and y_true.shape[1] != num_classes:
            raise ValueError(f"y has {y_true.shape[1]} label columns, expected {num_classes}")
        labels = list(range(int(num_classes)))
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 over all (row, label) decisions pooled; equals accuracy for single-label data."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    if y_true.ndim == 1:
        return accuracy(y_true, y_pred)
    return float(f1_score(y_true, y_pred, average="micro", zero_division=0))


def scores(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> dict[str, float]:
    """``accuracy``, ``macro_f1`` (over ``num_classes`` when given) and ``micro_f1`` at once."""
    return {
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred, num_classes),
        "micro_f1": micro_f1(y_true, y_pred),
    }


def normalized_auc(labels_counts: Sequence[float], accuracies: Sequence[float]) -> float:
    """Trapezoidal area under the accuracy-vs-labels curve divided by the range of labels.

    This is the curve's average height over the labelling budget: a constant curve at ``a``
    gives ``a`` and a single point gives its own value, so the result stays in ``[0, 1]`` for
    accuracies in ``[0, 1]`` and is comparable between runs with different budgets.
    """
    x = np.asarray(labels_counts, dtype=np.float64)
    y = np.asarray(accuracies, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"labels_counts and accuracies must be 1-D of equal length, got {x.shape} and {y.shape}"
        )
    if len(x) == 0:
        raise ValueError("cannot compute the AUC of an empty curve")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("labels_counts and accuracies must be finite")
    if np.any(y < 0) or np.any(y > 1):
        raise ValueError("accuracies must lie in [0, 1]")
    if np.any(np.diff(x) < 0):
        raise ValueError("labels_counts must be non-decreasing")
    span = x[-1] - x[0]
    if span == 0:
        # One point (or several at the same budget): the curve's height there.
        return float(np.clip(y.mean(), 0.0, 1.0))
    area = np.trapezoid(y, x)
    return float(np.clip(area / span, 0.0, 1.0))


def labels_to_target(
    labels_counts: Sequence[float], values: Sequence[float], target: float
) -> float | None:
    """The first label count at which the curve reaches ``target`` (None if it never does).

    Read at the measured points, without interpolation: the answer is a budget that was
    actually observed to suffice.
    """
    x = np.asarray(labels_counts, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"labels_counts and values must be 1-D of equal length: {x.shape}, {y.shape}"
        )
    hits = np.flatnonzero(y >= target)
    return None if len(hits) == 0 else float(x[hits[0]])


def spread(values: Sequence[float]) -> dict[str, float | int | None]:
    """``n``, ``mean``, ``std`` (sample, ddof=1; None for one value), ``min`` and ``max``."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError("spread() needs a non-empty 1-D sequence")
    return {
        "n": int(len(v)),
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else None,
        "min": float(v.min()),
        "max": float(v.max()),
    }
