"""BALD: Bayesian active learning by disagreement, with MC-dropout samples.

Houlsby, Huszar, Ghahramani & Lengyel (2011), "Bayesian active learning for classification and
preference learning", arXiv:1112.5745; with MC dropout as the posterior: Gal, Islam &
Ghahramani (2017), "Deep Bayesian active learning with image data", ICML. The score is the
mutual information between the prediction and the model parameters,
``H[mean_t p_t(.|x)] - mean_t H[p_t(.|x)]`` over ``T`` dropout samples (nats).
"""

from __future__ import annotations

import numpy as np

from al_core.query.base import QueryStrategy
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, predict_proba_mc_chunked


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats with ``0 log 0 = 0``."""
    p = np.clip(p, 0.0, 1.0)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=axis)


class BALD(QueryStrategy):
    """Ask items on which dropout samples of the model disagree most (mutual information)."""

    name = "bald"
    description = "BALD: ask items whose MC-dropout predictions disagree most (mutual information)."
    needs = ("mc-dropout",)

    def __init__(self, n_samples: int = 10, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if int(n_samples) < 2:
            raise ValueError(f"n_samples must be >= 2, got {n_samples}")
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.n_samples, self.chunk_size = int(n_samples), int(chunk_size)

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        seed = int(rng.integers(2**31 - 1))
        samples = predict_proba_mc_chunked(
            clf, X, candidates, self.n_samples, seed, self.chunk_size
        ).astype(np.float64)
        if samples.ndim != 3 or samples.shape[0] != self.n_samples:
            raise ValueError(f"predict_proba_mc returned shape {samples.shape}")
        return self.score_samples(samples)

    @staticmethod
    def score_samples(samples: np.ndarray) -> np.ndarray:
        """BALD scores from ``(T, n, C)`` probability samples."""
        return entropy(samples.mean(axis=0)) - entropy(samples).mean(axis=0)
