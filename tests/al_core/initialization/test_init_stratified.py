"""StratifiedInitializer: the contract, class coverage, proportions, allocation."""

from __future__ import annotations

import numpy as np
import pytest
from init_contract import InitializerContract

import al_core.initialization as initialization
from al_core.initialization import StratifiedInitializer, allocate_proportional, strata_of


def imbalanced_labels(n_pool: int) -> np.ndarray:
    """Classes 0/1/2/3 with shares about 70/20/8/2 %, shuffled."""
    y = np.searchsorted(np.array([0.7, 0.9, 0.98]), (np.arange(n_pool) + 0.5) / max(n_pool, 1))
    return np.random.default_rng(0).permutation(y).astype(np.int64)


class TestStratifiedInitializer(InitializerContract):
    def make_initializer(self) -> StratifiedInitializer:
        return StratifiedInitializer()

    def labels(self, n_pool: int) -> np.ndarray:
        return imbalanced_labels(n_pool)


def test_every_class_present_even_rare() -> None:
    y = np.array([0] * 90 + [1] * 7 + [2] * 2 + [3] * 1)
    for seed in range(10):
        out = StratifiedInitializer().select(len(y), 4, y=y, seed=seed)
        assert sorted(y[out].tolist()) == [0, 1, 2, 3]
        out = StratifiedInitializer().select(len(y), 10, y=y, seed=seed)
        assert set(y[out].tolist()) == {0, 1, 2, 3}


def test_proportions_match_class_frequencies() -> None:
    y = np.random.default_rng(1).permutation(np.repeat([0, 1, 2], [600, 300, 100]))
    out = StratifiedInitializer().select(1000, 100, y=y, seed=0)
    assert np.bincount(y[out], minlength=3).tolist() == [60, 30, 10]
    out = StratifiedInitializer().select(1000, 77, y=y, seed=0)
    counts = np.bincount(y[out], minlength=3)
    assert counts.sum() == 77
    assert np.all(np.abs(counts - 77 * np.array([0.6, 0.3, 0.1])) <= 1)


def test_fewer_draws_than_classes() -> None:
    y = np.repeat(np.arange(6), 10)  # six equal classes, n = 3
    seen = set()
    for seed in range(20):
        out = StratifiedInitializer().select(60, 3, y=y, seed=seed)
        assert len(set(y[out].tolist())) == 3  # never two from one class
        seen |= set(y[out].tolist())
    assert seen == set(range(6))  # which classes get picked depends on the seed


def test_multi_label_stratifies_on_label_combinations() -> None:
    combos = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=np.int8)
    y = combos[np.repeat(np.arange(5), [50, 25, 15, 8, 2])]
    y = y[np.random.default_rng(2).permutation(len(y))]
    out = StratifiedInitializer().select(len(y), 20, y=y, seed=0)
    picked = {tuple(row) for row in y[out].tolist()}
    assert picked == {tuple(c) for c in combos.tolist()}
    assert len(np.unique(out)) == 20


def test_missing_or_bad_labels_raise() -> None:
    init = StratifiedInitializer()
    with pytest.raises(ValueError, match="gold labels"):
        init.select(10, 3)
    with pytest.raises(ValueError, match="rows"):
        init.select(10, 3, y=np.zeros(9, dtype=np.int64))
    with pytest.raises(ValueError, match="negative"):
        init.select(3, 2, y=np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="integer"):
        init.select(3, 2, y=np.array([0.5, 1.0, 0.0]))
    with pytest.raises(ValueError):
        init.select(2, 1, y=np.zeros((2, 2, 2), dtype=np.int8))


def test_strata_of() -> None:
    assert strata_of(np.array([5, 2, 5, 9]), 4).tolist() == [1, 0, 1, 2]
    y = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.int8)
    assert strata_of(y, 3).tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("counts", "n", "expected"),
    [
        # shares 60/30/10 exactly
        ([600, 300, 100], 100, [60, 30, 10]),
        # one each first, then the remaining 7 go to class 0 (ideal shares 9, 0.5, 0.5)
        ([90, 5, 5], 10, [8, 1, 1]),
        # n >= total: everything
        ([3, 2], 10, [3, 2]),
        ([4, 4, 4], 0, [0, 0, 0]),
    ],
)
def test_allocate_proportional(counts, n, expected) -> None:
    alloc = allocate_proportional(np.array(counts), n, np.random.default_rng(0))
    assert alloc.tolist() == expected


def test_allocate_proportional_remainder_ties_follow_the_rng() -> None:
    # Ideal shares 3.5/3.5/3; after one each, 7 remain over lacks 2.5/2.5/2 (exact), so the
    # quotients are 2/2/2 and the last draw goes to class 0 or 1 (equal remainders 0.5).
    seen = set()
    for seed in range(20):
        alloc = allocate_proportional(np.array([35, 35, 30]), 10, np.random.default_rng(seed))
        assert alloc[2] == 3 and sorted(alloc[:2].tolist()) == [3, 4]
        seen.add(tuple(alloc.tolist()))
    assert seen == {(4, 3, 3), (3, 4, 3)}


def test_allocate_proportional_properties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts = rng.integers(1, 50, size=rng.integers(1, 8))
        n = int(rng.integers(0, counts.sum() + 5))
        alloc = allocate_proportional(counts, n, rng)
        m = min(n, int(counts.sum()))
        assert alloc.sum() == m
        assert np.all(alloc <= counts) and np.all(alloc >= 0)
        if m >= len(counts):
            assert np.all(alloc >= 1)


def test_allocate_rejects_empty_stratum() -> None:
    with pytest.raises(ValueError):
        allocate_proportional(np.array([3, 0]), 2, np.random.default_rng(0))


def test_registry_and_exports() -> None:
    assert initialization.REGISTRY == {
        "random": initialization.RandomInitializer,
        "stratified": initialization.StratifiedInitializer,
        "class-balanced": initialization.ClassBalancedInitializer,
        "embedding-kmeans": initialization.EmbeddingKMeansInitializer,
        "typiclust": initialization.TypiClustInitializer,
    }
    assert StratifiedInitializer.needs_labels is True
    for name in initialization.__all__:
        assert hasattr(initialization, name)
