"""Shared by the criteria that compare successive models' predictions on the stopping set."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_predictions(predictions: Any, name: str, num_classes: int | None) -> np.ndarray:
    """``predictions`` as int64 class indices (1-D) or an int8 indicator matrix (2-D).

    Integral floats are accepted. Raises ``ValueError`` naming the criterion for anything else:
    an index outside ``[0, num_classes)``, a non-0/1 matrix, a wrong number of columns, or
    an empty array.
    """
    preds = np.asarray(predictions)
    if preds.ndim not in (1, 2):
        raise ValueError(f"{name} needs 1-D class indices or a 2-D indicator matrix")
    if len(preds) == 0:
        raise ValueError(f"{name} needs a non-empty stopping set")
    if preds.dtype.kind not in "iub":
        if preds.dtype.kind != "f" or not np.all(preds == np.round(preds)):
            raise ValueError(f"{name} needs integer class indices, got {preds.dtype}")
    if preds.ndim == 2:
        if not np.isin(preds, (0, 1)).all():
            raise ValueError(f"{name}: a multi-label prediction matrix holds only 0 and 1")
        if num_classes is not None and preds.shape[1] != num_classes:
            raise ValueError(
                f"{name}: predictions have {preds.shape[1]} label columns, expected {num_classes}"
            )
        return preds.astype(np.int8)
    preds = preds.astype(np.int64)
    if num_classes is not None and (preds.min() < 0 or preds.max() >= num_classes):
        raise ValueError(
            f"{name}: class indices must lie in [0, {num_classes}), "
            f"got [{preds.min()}, {preds.max()}]"
        )
    return preds


class PredictionHistory:
    """The previous model's predictions on the stopping set, kept between checks.

    :meth:`swap` validates new predictions against the previous ones (same items, so the same
    shape) and returns the previous predictions (None the first time).
    """

    def __init__(self, name: str, num_classes: int | None) -> None:
        self.name = name
        self.num_classes = num_classes
        self.previous: np.ndarray | None = None

    def validate(self, predictions: Any) -> np.ndarray:
        preds = check_predictions(predictions, self.name, self.num_classes)
        if self.previous is not None and preds.shape != self.previous.shape:
            raise ValueError(
                f"{self.name}: the stopping set changed ({self.previous.shape} -> "
                f"{preds.shape}); predictions must cover the same items every iteration"
            )
        return preds

    def swap(self, predictions: Any) -> np.ndarray | None:
        preds = self.validate(predictions)
        previous, self.previous = self.previous, preds
        return previous

    def to_json(self) -> list | None:
        return None if self.previous is None else self.previous.tolist()

    def load_json(self, value: list | None) -> None:
        self.previous = (
            None if value is None else check_predictions(value, self.name, self.num_classes)
        )
