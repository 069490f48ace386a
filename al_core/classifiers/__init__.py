"""Classifiers: the protocol, the scikit-learn and PyTorch models, and the name -> class registry.

Importing this package is cheap: torch, transformers and scikit-learn load on first fit.
"""

from al_core.classifiers.base import Classifier, NotFittedError, is_text_list
from al_core.classifiers.embedding_head import EmbeddingLogRegClassifier
from al_core.classifiers.kimcnn import KimCNNClassifier
from al_core.classifiers.label_spreading import LabelSpreadingClassifier
from al_core.classifiers.linear import (
    LinearSVMClassifier,
    LogisticRegressionClassifier,
    SklearnClassifier,
    check_targets,
    pad_proba,
)
from al_core.classifiers.persistence import UnsafeArtifactError, load_classifier, save_classifier
from al_core.classifiers.setfit import SetFitClassifier
from al_core.classifiers.transformer import TransformerClassifier

REGISTRY: dict[str, type[Classifier]] = {
    cls.name: cls
    for cls in (
        LogisticRegressionClassifier,
        LinearSVMClassifier,
        EmbeddingLogRegClassifier,
        TransformerClassifier,
        SetFitClassifier,
        KimCNNClassifier,
    )
}

#: Every class a saved artifact may name: the registry, plus library classes that are not
#: offered by name. ``label-spreading`` is not registered: measured on TREC-6 and MR
#: (benchmarks/results/semi_supervised_check.json) it never beat ``embedding-logreg`` at
#: 50-525 labels.
LOADABLE: dict[str, type[Classifier]] = {
    **REGISTRY,
    LabelSpreadingClassifier.name: LabelSpreadingClassifier,
}

__all__ = [
    "LOADABLE",
    "REGISTRY",
    "Classifier",
    "EmbeddingLogRegClassifier",
    "KimCNNClassifier",
    "LabelSpreadingClassifier",
    "LinearSVMClassifier",
    "LogisticRegressionClassifier",
    "NotFittedError",
    "SetFitClassifier",
    "SklearnClassifier",
    "TransformerClassifier",
    "UnsafeArtifactError",
    "check_targets",
    "is_text_list",
    "load_classifier",
    "pad_proba",
    "save_classifier",
]
