"""RandomInitializer: the contract, and uniformity."""

from __future__ import annotations

import numpy as np
from init_contract import InitializerContract

from al_core.initialization import RandomInitializer


class TestRandomInitializer(InitializerContract):
    def make_initializer(self) -> RandomInitializer:
        return RandomInitializer()

    def test_matches_generator_choice(self) -> None:
        expected = np.random.default_rng(9).choice(80, size=12, replace=False)
        np.testing.assert_array_equal(RandomInitializer().select(80, 12, seed=9), expected)

    def test_ignores_labels(self) -> None:
        y = np.zeros(80, dtype=np.int64)
        np.testing.assert_array_equal(
            RandomInitializer().select(80, 12, y=y, seed=9),
            RandomInitializer().select(80, 12, seed=9),
        )

    def test_roughly_uniform(self) -> None:
        counts = np.zeros(20, dtype=np.int64)
        for seed in range(400):
            counts[RandomInitializer().select(20, 5, seed=seed)] += 1
        assert counts.min() > 50 and counts.max() < 150  # expected 100 each
