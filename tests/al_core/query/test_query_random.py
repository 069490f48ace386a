"""RandomSampling: the contract plus seed behaviour."""

from __future__ import annotations

import numpy as np
from query_contract import StrategyContract

from al_core.query import RandomSampling


class TestRandomSampling(StrategyContract):
    def make_strategy(self) -> RandomSampling:
        return RandomSampling()

    def test_different_seeds_differ(self, strategy, pool) -> None:
        picks = {tuple(self.query(strategy, pool, n=10, seed=s).indices) for s in range(5)}
        assert len(picks) == 5

    def test_needs_nothing_and_accepts_texts(self) -> None:
        texts = [f"text {i}" for i in range(20)]
        result = RandomSampling().query(
            None, texts, np.arange(5, 20), np.arange(5), np.zeros(5, dtype=np.int64), 6, seed=1
        )
        assert len(set(result.indices.tolist())) == 6
        assert result.indices.min() >= 5

    def test_scores_are_uniform_draws(self) -> None:
        rng = np.random.default_rng(0)
        scores = RandomSampling().score(None, None, np.arange(1000), np.empty(0), None, rng)
        assert scores.shape == (1000,)
        assert 0.0 <= scores.min() and scores.max() < 1.0
        assert abs(scores.mean() - 0.5) < 0.05

    def test_selection_is_roughly_uniform(self, strategy, pool) -> None:
        counts = np.zeros(60, dtype=np.int64)
        for seed in range(300):
            counts[self.query(strategy, pool, n=5, seed=seed).indices] += 1
        hits = counts[pool.unlabeled]
        expected = 300 * 5 / len(pool.unlabeled)
        assert hits.min() > 0.3 * expected and hits.max() < 2.2 * expected
