"""The classifier protocol shared by every model in alflow.

A classifier is built with its hyperparameters and the size of the label set
(``num_classes``, ``multi_label``), then ``fit`` on features and targets encoded as in
:mod:`al_core.labels`. ``predict_proba`` always returns one column per class of the label set,
in label-set order, even for classes absent from the training data, so strategies and metrics
never have to realign columns.

``input_kind`` says what ``X`` is: ``"features"`` (a dense or sparse matrix made by an
:class:`~al_core.embeddings.Embedder`) or ``"texts"`` (a list of strings, for models that
tokenize themselves, such as fine-tuned transformers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

from al_core.features import Features


class NotFittedError(RuntimeError):
    """``predict`` or ``predict_proba`` was called before ``fit``."""


class Classifier(ABC):
    """Base class: hyperparameters in ``__init__``, data in ``fit``/``predict_proba``."""

    name: ClassVar[str]
    description: ClassVar[str]
    input_kind: ClassVar[str] = "features"
    supports_multi_label: ClassVar[bool] = False
    default_embedder: ClassVar[str | None] = "tfidf"  # registry name; None for "texts" models

    def __init__(self, num_classes: int, multi_label: bool = False, seed: int | None = None):
        if num_classes < 2 and not multi_label:
            raise ValueError("a single-label classifier needs at least 2 classes")
        if multi_label and not self.supports_multi_label:
            raise ValueError(f"classifier {self.name!r} does not support multi-label tasks")
        self.num_classes = int(num_classes)
        self.multi_label = bool(multi_label)
        self.seed = seed

    @abstractmethod
    def fit(self, X: Features, y: np.ndarray) -> Self:
        """Train on ``X`` and targets ``y`` (class indices, or an indicator matrix)."""

    @abstractmethod
    def predict_proba(self, X: Features) -> np.ndarray:
        """Class probabilities, shape ``(n, num_classes)``; rows sum to 1 for single-label."""

    def predict(self, X: Features) -> np.ndarray:
        """Class indices (single-label) or an indicator matrix thresholded at 0.5 (multi)."""
        proba = self.predict_proba(X)
        if self.multi_label:
            return (proba >= 0.5).astype(np.int8)
        return proba.argmax(axis=1)
