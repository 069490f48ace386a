"""Stabilizing predictions: stop when successive models agree on a fixed stopping set.

Bloodgood & Vijay-Shanker (2009), "A method for stopping active learning based on stabilizing
predictions and the need for user-adjustable stopping", CoNLL. After every iteration the model
predicts a fixed, unlabelled stopping set; Cohen's kappa between this iteration's and the
previous iteration's predictions measures how much the model still changes. Learning stops once
the mean kappa over the last ``window_size`` pairs reaches the threshold ``kappa``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.stopping.base import StopDecision, StoppingContext, StoppingCriterion
from al_core.stopping.history import PredictionHistory


def cohen_kappa(a: np.ndarray, b: np.ndarray, num_classes: int) -> float:
    """Cohen's kappa between two vectors of class indices in ``[0, num_classes)``.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with observed agreement ``p_o`` (the trace of the
    confusion matrix over ``n``) and chance agreement ``p_e = sum_c r_c c_c / n^2`` from the row
    and column marginals. It is computed in exact integer arithmetic as
    ``(n * trace - sum_c r_c c_c) / (n^2 - sum_c r_c c_c)``.

    Degenerate case: ``p_e == 1`` happens exactly when both vectors are constant and predict the
    same class; they then agree perfectly and the kappa is defined as ``1.0``. (``p_e == 1``
    forces ``p_o == 1``, so no other ``p_e == 1`` case exists; should one ever be reached the
    function returns ``0.0``, i.e. "no better than chance", rather than dividing by zero.)
    Two empty vectors raise ``ValueError``.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"kappa needs two 1-D vectors of equal length, got {a.shape}, {b.shape}")
    n = len(a)
    if n == 0:
        raise ValueError("kappa is undefined for empty prediction vectors")
    k = int(num_classes)
    for v in (a, b):
        if v.min() < 0 or v.max() >= k:
            raise ValueError(f"class indices must lie in [0, {k}), got [{v.min()}, {v.max()}]")
    confusion = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
    agree = int(np.trace(confusion))
    chance = int(np.dot(confusion.sum(axis=1), confusion.sum(axis=0)))  # n^2 * p_e
    denominator = n * n - chance  # n^2 * (1 - p_e)
    if denominator == 0:
        return 1.0 if agree == n else 0.0
    return (n * agree - chance) / denominator


class KappaAverage(StoppingCriterion):
    """Stop when the mean Cohen's kappa of the last ``window_size`` iteration pairs >= ``kappa``.

    Every :meth:`check` needs ``ctx.predictions``: the current model's class indices on the same
    stopping set as before. The first call only records them; each later call adds one kappa.
    The decision's ``value`` is the mean of the last (up to ``window_size``) kappas, ``None``
    until one exists. Single-label only: on a multi-label task, or without a stopping set, the
    decision is "not applicable". The history is JSON-serializable via :meth:`state_dict`, so a
    scheduled pipeline can persist it between runs.
    """

    name = "kappa-average"
    description = "Stop when predictions on a stopping set stabilize (mean Cohen's kappa)."
    needs = ("predictions",)
    label_types = ("single",)

    def __init__(self, num_classes: int, kappa: float = 0.99, window_size: int = 3) -> None:
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if not -1.0 <= float(kappa) <= 1.0:
            raise ValueError(f"kappa threshold must lie in [-1, 1], got {kappa}")
        if int(window_size) < 1:
            raise ValueError(f"window_size must be >= 1, got {window_size}")
        self.num_classes = int(num_classes)
        self.kappa = float(kappa)
        self.window_size = int(window_size)
        self._history = PredictionHistory(self.name, self.num_classes)
        self._kappas: list[float] = []

    @property
    def kappas(self) -> list[float]:
        """The kappa of every successive pair of predictions seen so far, oldest first."""
        return list(self._kappas)

    def _check(self, ctx: StoppingContext) -> StopDecision:
        previous = self._history.swap(ctx.predictions)
        preds = self._history.previous
        if previous is None:
            return StopDecision(
                stop=False,
                value=None,
                reason=f"recorded first predictions on {len(preds)} stopping-set items",
            )
        self._kappas.append(cohen_kappa(previous, preds, self.num_classes))
        window = self._kappas[-self.window_size :]
        mean = float(np.mean(window))
        if len(window) < self.window_size:
            return StopDecision(
                stop=False,
                value=mean,
                reason=f"{len(window)} of {self.window_size} kappas needed (mean {mean:.4f})",
            )
        stop = mean >= self.kappa
        relation = ">=" if stop else "<"
        return StopDecision(
            stop=stop,
            value=mean,
            reason=(
                f"mean kappa of last {self.window_size} iterations {mean:.4f} {relation} "
                f"{self.kappa}"
            ),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "previous_predictions": self._history.to_json(),
            "kappas": [float(k) for k in self._kappas],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        previous = state.get("previous_predictions")
        kappas = [float(k) for k in state.get("kappas", [])]
        if previous is None and kappas:
            raise ValueError("state has kappas but no previous predictions")
        if previous is not None and np.ndim(previous) != 1:
            raise ValueError(f"{self.name} state must hold 1-D class indices")
        self._history.load_json(previous)
        self._kappas = kappas

    def __repr__(self) -> str:
        return (
            f"KappaAverage(num_classes={self.num_classes}, kappa={self.kappa}, "
            f"window_size={self.window_size})"
        )
