"""Stratified initialization: a sample whose class proportions follow the pool's.

Only usable when gold labels are known (simulations, or a pool annotated in advance). Strata
are the classes for single-label ``y``; for a multi-label indicator matrix they are the distinct
label combinations (rows of ``y``, the all-zero row included), i.e. label-powerset
stratification, so every combination present gets its share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from al_core.initialization.base import Initializer
from al_core.initialization.random import check_sizes


def allocate_proportional(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` draws over strata of sizes ``counts`` proportionally, by largest remainder.

    When ``n >= len(counts)`` every stratum first gets one draw, and the remaining draws go
    in proportion to what each stratum still lacks of its ideal share ``n * count / total``.
    Otherwise the shares are rounded by largest remainder directly. Equal remainders are broken
    at random under ``rng``. The result sums to ``min(n, total)`` and never exceeds ``counts``.
    Exact integer arithmetic throughout (no floating-point rounding drift).
    """
    counts = [int(c) for c in counts]
    if any(c <= 0 for c in counts):
        raise ValueError("every stratum must be non-empty")
    total = sum(counts)
    n = min(int(n), total)
    floor = 1 if n >= len(counts) else 0
    alloc = [floor] * len(counts)
    remaining = n - floor * len(counts)
    if remaining == 0:
        return np.asarray(alloc, dtype=np.int64)
    # Ideal share minus what is already given, both scaled by `total` to stay integral.
    lack = [max(n * c - floor * total, 0) for c in counts]
    lack_sum = sum(lack)  # >= remaining * total > 0
    quotients = [remaining * d // lack_sum for d in lack]
    remainders = np.asarray([remaining * d % lack_sum for d in lack], dtype=np.float64)
    alloc = [a + q for a, q in zip(alloc, quotients, strict=True)]
    leftover = remaining - sum(quotients)
    # Largest remainder first; random tie-break. Each extra draw stays within the stratum size,
    # since the exact share of a stratum never exceeds its count.
    order = np.lexsort((rng.random(len(counts)), -remainders))[:leftover]
    for k in order:
        alloc[k] += 1
    return np.asarray(alloc, dtype=np.int64)


def strata_of(y: np.ndarray, n_pool: int) -> np.ndarray:
    """Stratum id per pool item: the class (single-label) or the label combination (multi)."""
    if y is None:
        raise ValueError("stratified initialization needs the gold labels y of the whole pool")
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(
            f"y must be class indices (1-D) or an indicator matrix (2-D), got {y.ndim}-D"
        )
    if len(y) != n_pool:
        raise ValueError(f"y has {len(y)} rows but the pool has {n_pool} items")
    if y.dtype.kind not in "iub":
        raise ValueError(f"y must hold integer labels, got dtype {y.dtype}")
    if y.ndim == 1:
        if n_pool and y.min() < 0:
            raise ValueError("y contains negative class indices (unlabelled items?)")
        _, inverse = np.unique(y, return_inverse=True)
    else:
        _, inverse = np.unique(y, axis=0, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).reshape(-1)


Allocate = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def sample_strata(
    y: np.ndarray | None, n_pool: int, n: int, seed: int | None, allocate: Allocate
) -> np.ndarray:
    """``min(n, n_pool)`` distinct indices: per-stratum counts from ``allocate``, items drawn
    uniformly within each stratum under ``seed``, returned in random order."""
    n_pool, n = check_sizes(n_pool, n)
    strata = strata_of(y, n_pool)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    counts = np.bincount(strata)
    alloc = allocate(counts, n, rng)
    members = np.split(np.argsort(strata, kind="stable"), np.cumsum(counts)[:-1])
    chosen = [
        rng.choice(items, size=k, replace=False)
        for items, k in zip(members, alloc, strict=True)
        if k
    ]
    return rng.permutation(np.concatenate(chosen)).astype(np.int64)


class StratifiedInitializer(Initializer):
    """``min(n, n_pool)`` distinct indices with class proportions close to the pool's.

    Per-stratum counts come from :func:`allocate_proportional` (at least one item of every
    stratum when ``n`` covers them all); items are sampled uniformly within each stratum under
    ``seed``, and the result is returned in random order.
    """

    name = "stratified"
    description = "Label a sample whose class proportions match the pool (needs gold labels)."
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
        return sample_strata(y, n_pool, n, seed, allocate_proportional)

    def __repr__(self) -> str:
        return "StratifiedInitializer()"
