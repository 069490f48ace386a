"""The initialization protocol: which items to label before any model exists.

An initializer sees the pool size and, when it declares the need, the gold labels ``y``
(simulations) or the items' embeddings ``X`` (cold start without labels). Callers pass what
``needs_labels`` / ``needs_embeddings`` ask for: the learner its feature matrix, the pipeline
the candidates' vectors from the workspace's embedding cache.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np


class Initializer(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    needs_labels: ClassVar[bool] = False  # True: only usable when gold labels are known
    needs_embeddings: ClassVar[bool] = False  # True: reads X, a dense (n_pool, d) embedding matrix

    @abstractmethod
    def select(
        self,
        n_pool: int,
        n: int,
        *,
        y: np.ndarray | None = None,
        X: np.ndarray | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Return ``min(n, n_pool)`` distinct pool indices in ``[0, n_pool)``."""


def check_embeddings(X: np.ndarray | None, n_pool: int, name: str) -> np.ndarray:
    """``X`` as a float32 ``(n_pool, d)`` matrix, or a clear error naming the initializer."""
    if X is None:
        raise ValueError(f"initializer {name!r} needs the items' embeddings: pass X")
    if hasattr(X, "toarray"):
        raise ValueError(f"initializer {name!r} needs dense embeddings, got a sparse matrix")
    arr = np.asarray(X, dtype=np.float32)
    if arr.ndim != 2 or len(arr) != n_pool:
        raise ValueError(f"initializer {name!r}: X must have shape ({n_pool}, d), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"initializer {name!r}: X contains non-finite values")
    return arr
