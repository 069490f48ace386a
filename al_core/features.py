"""Row access that works the same for dense arrays, sparse matrices and lists of texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

Features = Any  # np.ndarray | scipy.sparse matrix | Sequence[str]


def num_rows(X: Features) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def take_rows(X: Features, rows: np.ndarray | Sequence[int]) -> Features:
    """Rows ``rows`` of ``X``, in that order, keeping the container type."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return X[rows]
    return [X[int(i)] for i in rows]
