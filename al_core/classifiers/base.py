"""The classifier protocol shared by every model in alflow.

A classifier is built with its hyperparameters and the size of the label set
(``num_classes``, ``multi_label``), then ``fit`` on features and targets encoded as in
:mod:`al_core.labels`. ``predict_proba`` always returns one column per class of the label set,
in label-set order, even for classes absent from the training data, so strategies and metrics
never have to realign columns.

``input_kind`` says what ``X`` is: ``"features"`` (a dense or sparse matrix made by an
:class:`~al_core.embeddings.Embedder`) or ``"texts"`` (a list of strings, for models that
tokenize themselves, such as fine-tuned transformers).

Every classifier saves to and loads from a directory without pickle (:meth:`Classifier.save`,
:meth:`Classifier.load`, see :mod:`al_core.classifiers.persistence`): hyperparameters go to
JSON through :meth:`Classifier.get_params`, the fitted state through the
``_save_state``/``_load_state`` hooks.

Two optional behaviours are declared by class attributes:

* ``supports_warm_start``: calling ``fit`` again on a fitted instance may start from its
  current state (fine-tuned weights, a schedule); the learner's ``reuse_model`` and the
  pipeline's warm start use it when the instance's ``warm_start`` is true;
* ``uses_unlabeled``: ``fit(X, y, unlabeled=X_pool)`` also learns from items without labels
  (semi-supervised); callers pass the unlabelled pool when the class says so.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

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
    supports_warm_start: ClassVar[bool] = False
    uses_unlabeled: ClassVar[bool] = False

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

    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` has run (the saved state includes the fitted model)."""
        return False

    @property
    def wants_reuse(self) -> bool:
        """True when refitting this instance (rather than a fresh one) is what it is built for."""
        return self.supports_warm_start and bool(getattr(self, "warm_start", False))

    def check_input(self, X: Features) -> None:
        """Refuse ``X`` of the wrong kind (texts for a features model and vice versa)."""
        if self.input_kind == "texts" and not is_text_list(X):
            raise TypeError(
                f"{type(self).__name__} reads texts (a list of str) and tokenizes them itself; "
                f"got {type(X).__name__}. Do not embed the texts first."
            )

    # -- persistence ------------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        """The constructor's hyperparameters (not the label-set arguments), JSON-ready.

        Every hyperparameter is stored as an attribute of the same name, so the
        constructor's signature says what to save.
        """
        params = {}
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if name in ("self", "num_classes", "multi_label", "seed") or p.kind in (
                p.VAR_POSITIONAL,
                p.VAR_KEYWORD,
            ):
                continue
            value = getattr(self, name)
            params[name] = list(value) if isinstance(value, tuple) else value
        json.dumps(params)  # fail here, not halfway through a save
        return params

    @classmethod
    def params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Undo JSON's changes to saved hyperparameters (dict keys become strings)."""
        out = dict(params)
        if isinstance(out.get("class_weight"), dict):
            out["class_weight"] = {int(k): float(v) for k, v in out["class_weight"].items()}
        return out

    def _save_state(self, directory: Path) -> dict[str, Any]:
        """Write the fitted state's files into ``directory``; return a small JSON state."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        """Restore what :meth:`_save_state` wrote."""
        raise NotImplementedError(f"{type(self).__name__} cannot be loaded")

    def save(self, directory: str | Path) -> Path:
        """Save into ``directory`` (created if needed), with no pickle; returns it."""
        from al_core.classifiers.persistence import save_classifier

        return save_classifier(self, directory)

    @staticmethod
    def load(directory: str | Path) -> Classifier:
        """Load any classifier saved with :meth:`save`; runs no code from the files."""
        from al_core.classifiers.persistence import load_classifier

        return load_classifier(directory)

    def predict(self, X: Features) -> np.ndarray:
        """Class indices (single-label) or an indicator matrix thresholded at 0.5 (multi)."""
        proba = self.predict_proba(X)
        if self.multi_label:
            return (proba >= 0.5).astype(np.int8)
        return proba.argmax(axis=1)


def is_text_list(X: Features) -> bool:
    """True for a list/tuple of ``str`` or a NumPy array of strings."""
    if isinstance(X, list | tuple):
        return all(isinstance(t, str) for t in X)
    return isinstance(X, np.ndarray) and X.dtype.kind in "OUS" and X.ndim == 1
