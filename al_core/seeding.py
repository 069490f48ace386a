"""The one seeding scheme of alflow: a run's seed plus step numbers give each step's seed.

The in-memory learner and the workspace pipeline both draw the seed of every selection from
:func:`selection_seed`, so the same seed and the same candidates give the same choices in both.
Round 0 is the initial selection (the initializer, before any model); round ``k >= 1`` is the
``k``-th query, made by the model trained on the labels of rounds ``0 .. k-1``.
"""

from __future__ import annotations

import numpy as np


def derive_seed(seed: int | None, *parts: int) -> int | None:
    """A seed mixed from ``seed`` and step numbers through :class:`numpy.random.SeedSequence`.

    Neighbouring steps get independent random streams while a whole run stays reproducible
    from one integer. ``None`` stays ``None`` (unseeded). Trailing zero parts do not change
    the result (``derive_seed(s, 0) == derive_seed(s)``), a property of ``SeedSequence``.
    """
    if seed is None:
        return None
    if int(seed) < 0 or any(int(p) < 0 for p in parts):
        raise ValueError(f"seeds and step numbers must be >= 0, got {seed}, {parts}")
    return int(np.random.SeedSequence([int(seed), *map(int, parts)]).generate_state(1)[0])


def selection_seed(seed: int | None, query_round: int) -> int | None:
    """The seed of selection round ``query_round`` (0: initial selection, k: k-th query)."""
    if int(query_round) < 0:
        raise ValueError(f"query_round must be >= 0, got {query_round}")
    return derive_seed(seed, int(query_round))
