"""Label sets, the array encoding of labels, and current-label policies."""

from al_core.labels.labelset import (
    UNLABELED,
    LabelSet,
    UnknownLabelError,
    is_multi_label,
    label_problem,
)
from al_core.labels.policy import create_label_views

__all__ = [
    "UNLABELED",
    "LabelSet",
    "UnknownLabelError",
    "create_label_views",
    "is_multi_label",
    "label_problem",
]
