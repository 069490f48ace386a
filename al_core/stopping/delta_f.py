"""Predicted change of F: stop when successive models' F-measure agreement stops changing.

Altschuler & Bloodgood (2019), "Stopping Active Learning based on Predicted Change of F Measure
for Text Classification", IEEE ICSC (arXiv:1901.09118). On a fixed, unlabelled stopping set,
the previous model ``M_{t-1}`` and the current model ``M_t`` are compared like two annotators on
the positive class: ``a`` items both label positive, ``b`` items only ``M_{t-1}`` labels
positive, ``c`` items only ``M_t`` labels positive. The F-measure of ``M_t`` scored against
``M_{t-1}`` is ``F = 2a / (2a + b + c)``; the predicted change of F is ``ΔF = 1 - F``. Items
both models call negative do not enter (the F-measure ignores true negatives).

Beyond the binary case of the paper (positive class = class 1):

* single-label with more classes: each class is the positive class of a one-vs-rest problem,
  and ``F`` is the mean over the classes that either model predicts (a class neither model
  predicts has no positives to agree on);
* multi-label: each label column is a binary problem, averaged the same way.

If neither model predicts any positive at all, the two agree perfectly: ``F = 1``, ``ΔF = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion
from al_core.stopping.history import PredictionHistory, check_predictions


def f_agreement(previous: np.ndarray, current: np.ndarray, num_classes: int) -> float:
    """``2a / (2a + b + c)`` between two prediction arrays, averaged as the module describes.

    Binary single-label (``num_classes == 2``) uses class 1 as the positive class.
    """
    prev = check_predictions(previous, "f_agreement", num_classes)
    cur = check_predictions(current, "f_agreement", num_classes)
    if prev.shape != cur.shape:
        raise ValueError(f"prediction shapes differ: {prev.shape} vs {cur.shape}")
    if prev.ndim == 1:
        k = int(num_classes)
        confusion = np.bincount(prev * k + cur, minlength=k * k).reshape(k, k)
        both = np.diag(confusion).astype(np.float64)  # a per class
        only_prev = confusion.sum(axis=1) - both  # b: previous says c, current says another
        only_cur = confusion.sum(axis=0) - both  # c
        if k == 2:
            both, only_prev, only_cur = both[1:], only_prev[1:], only_cur[1:]
    else:
        p, c = prev.astype(bool), cur.astype(bool)
        both = (p & c).sum(axis=0).astype(np.float64)
        only_prev = (p & ~c).sum(axis=0).astype(np.float64)
        only_cur = (~p & c).sum(axis=0).astype(np.float64)
    denominator = 2 * both + only_prev + only_cur
    used = denominator > 0
    if not used.any():
        return 1.0
    return float(np.mean(2 * both[used] / denominator[used]))


class DeltaFScore(StoppingCriterion):
    """Stop when ``ΔF`` stayed below ``threshold`` for the last ``window_size`` iterations.

    The first check only records predictions; each later one adds ``ΔF`` between the previous
    and the current model. The decision's ``value`` is the largest ``ΔF`` in the current
    window (the number compared with the threshold), ``None`` until one exists.
    """

    name = "delta-f"
    description = "Stop when the predicted change of F between successive models stays small."
    needs = ("predictions",)

    def __init__(self, num_classes: int, threshold: float = 0.01, window_size: int = 3) -> None:
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
        if int(window_size) < 1:
            raise ValueError(f"window_size must be >= 1, got {window_size}")
        self.num_classes = int(num_classes)
        self.threshold = float(threshold)
        self.window_size = int(window_size)
        self._history = PredictionHistory(self.name, self.num_classes)
        self._deltas: list[float] = []

    @property
    def deltas(self) -> list[float]:
        """``ΔF`` of every successive pair of models so far, oldest first."""
        return list(self._deltas)

    def _check(self, ctx: StoppingContext) -> StopDecision:
        previous = self._history.swap(ctx.predictions)
        if previous is None:
            n = len(self._history.previous)
            return StopDecision(False, None, f"recorded first predictions on {n} items")
        current = self._history.previous
        self._deltas.append(1.0 - f_agreement(previous, current, self.num_classes))
        window = self._deltas[-self.window_size :]
        worst = float(max(window))
        if len(window) < self.window_size:
            return StopDecision(
                False, worst, f"{len(window)} of {self.window_size} ΔF values needed"
            )
        stop = worst < self.threshold
        relation = "<" if stop else ">="
        return StopDecision(
            stop,
            worst,
            f"largest ΔF of the last {self.window_size} iterations {worst:.4f} {relation} "
            f"{self.threshold}",
        )

    def state_dict(self) -> dict[str, Any]:
        return {"previous_predictions": self._history.to_json(), "deltas": self._deltas}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        deltas = [float(d) for d in state.get("deltas", [])]
        previous = state.get("previous_predictions")
        if previous is None and deltas:
            raise ValueError("state has ΔF values but no previous predictions")
        self._history.load_json(previous)
        self._deltas = deltas

    def __repr__(self) -> str:
        return (
            f"DeltaFScore(num_classes={self.num_classes}, threshold={self.threshold}, "
            f"window_size={self.window_size})"
        )
