"""Classifiers: the protocol, the scikit-learn models, and the name -> class registry."""

from al_core.classifiers.base import Classifier, NotFittedError
from al_core.classifiers.embedding_head import EmbeddingLogRegClassifier
from al_core.classifiers.linear import (
    LinearSVMClassifier,
    LogisticRegressionClassifier,
    SklearnClassifier,
    check_targets,
    pad_proba,
)

REGISTRY: dict[str, type[Classifier]] = {
    cls.name: cls
    for cls in (LogisticRegressionClassifier, LinearSVMClassifier, EmbeddingLogRegClassifier)
}

__all__ = [
    "REGISTRY",
    "Classifier",
    "EmbeddingLogRegClassifier",
    "LinearSVMClassifier",
    "LogisticRegressionClassifier",
    "NotFittedError",
    "SklearnClassifier",
    "check_targets",
    "pad_proba",
]
