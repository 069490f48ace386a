"""Class-balanced initialization: as many items of every class as the budget allows.

Only usable when gold labels are known (simulations, a pre-annotated pool). Strata are the
classes (single-label) or label combinations (multi-label), as in stratified initialization;
unlike it, every stratum gets an equal share, so rare classes are seen from the start.
"""

from __future__ import annotations

import numpy as np

from al_core.initialization.base import Initializer
from al_core.initialization.stratified import sample_strata


def allocate_equal(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` draws as evenly as possible over strata of sizes ``counts`` (water-filling).

    A stratum never gets more than it has; what a small stratum cannot take goes to the others.
    The last uneven draws go to randomly chosen strata under ``rng``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = min(int(n), int(counts.sum()))
    alloc = np.zeros_like(counts)
    while n > int(alloc.sum()):
        open_ = np.flatnonzero(alloc < counts)
        left = n - int(alloc.sum())
        share = left // len(open_)
        if share == 0:  # fewer draws left than open strata: one each to a random few
            alloc[rng.choice(open_, size=left, replace=False)] += 1
            break
        alloc[open_] = np.minimum(alloc[open_] + share, counts[open_])
    return alloc


class ClassBalancedInitializer(Initializer):
    """``min(n, n_pool)`` distinct indices with (as far as possible) equal counts per class."""

    name = "class-balanced"
    description = "Label an equal number of items of every class first (needs gold labels)."
    needs_labels = True

    def select(
        self,
        n_pool: int,
        n: int,
        *,
        y: np.ndarray | None = None,
        X: np.ndarray | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        return sample_strata(y, n_pool, n, seed, allocate_equal)

    def __repr__(self) -> str:
        return "ClassBalancedInitializer()"
