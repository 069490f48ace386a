"""Label sets, the array encoding of labels, and current-label policies."""

from al_core.labels.labelset import UNLABELED, LabelSet, UnknownLabelError, is_multi_label

__all__ = ["UNLABELED", "LabelSet", "UnknownLabelError", "is_multi_label"]
