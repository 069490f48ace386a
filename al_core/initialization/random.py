"""Random initialization: a uniform sample of the pool, without replacement."""

from __future__ import annotations

import numpy as np

from al_core.initialization.base import Initializer


def check_sizes(n_pool: int, n: int) -> tuple[int, int]:
    """Validate ``n_pool`` and ``n`` and return them as ints, ``n`` capped at ``n_pool``."""
    if int(n_pool) < 0:
        raise ValueError(f"n_pool must be >= 0, got {n_pool}")
    if int(n) < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return int(n_pool), min(int(n), int(n_pool))


class RandomInitializer(Initializer):
    """``min(n, n_pool)`` distinct indices drawn uniformly under ``seed``."""

    name = "random"
    description = "Label a uniformly random sample of the pool first."

    def select(
        self,
        n_pool: int,
        n: int,
        *,
        y: np.ndarray | None = None,
        X: np.ndarray | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        n_pool, n = check_sizes(n_pool, n)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        rng = np.random.default_rng(seed)
        return rng.choice(n_pool, size=n, replace=False).astype(np.int64)

    def __repr__(self) -> str:
        return "RandomInitializer()"
