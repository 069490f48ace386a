"""The shared selection (top_n) and the linear-time validation of the query base."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.query import top_n
from al_core.query.base import check_candidates


def reference_top_n(scores, n, rng):
    """The old definition: a full lexsort by (-rounded score, random key)."""
    return np.lexsort((rng.random(len(scores)), -np.round(scores, 12)))[:n]


@pytest.mark.parametrize("n", [1, 5, 37, 100])
def test_top_n_takes_the_same_set_as_a_full_sort(n) -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=100).astype(np.float64)  # many ties
    for seed in range(10):
        got = top_n(scores, n, np.random.default_rng(seed))
        assert len(np.unique(got)) == n
        # same multiset of scores as the reference, sorted best first
        ref = reference_top_n(scores, n, np.random.default_rng(seed))
        assert sorted(scores[got]) == sorted(scores[ref])
        assert np.all(np.diff(scores[got]) <= 0)


def test_top_n_ties_random_under_seed_and_reproducible() -> None:
    scores = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    firsts = {top_n(scores, 1, np.random.default_rng(s))[0] for s in range(40)}
    assert firsts == {0, 1, 2, 3}
    a = top_n(scores, 3, np.random.default_rng(9))
    b = top_n(scores, 3, np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)


def test_top_n_float_noise_counts_as_tie_and_nan_last() -> None:
    scores = np.array([0.3, 0.1 + 0.2, np.nan, 0.2])  # 0.1 + 0.2 = 0.30000000000000004
    picks = {tuple(top_n(scores, 2, np.random.default_rng(s))) for s in range(30)}
    assert {frozenset(p) for p in picks} == {frozenset({0, 1})} and len(picks) == 2
    assert top_n(scores, 4, np.random.default_rng(0))[-1] == 2


def test_check_candidates() -> None:
    check_candidates(np.array([1, 3]), np.array([0, 2]), 4)
    with pytest.raises(ValueError, match="duplicates"):
        check_candidates(np.array([1, 1]), np.array([0]), 4)
    with pytest.raises(ValueError, match="overlap"):
        check_candidates(np.array([1, 2]), np.array([2]), 4)
    with pytest.raises(IndexError):
        check_candidates(np.array([4]), np.array([0]), 4)
    with pytest.raises(IndexError):
        check_candidates(np.array([1]), np.array([7]), 4)
