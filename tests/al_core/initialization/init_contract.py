"""The contract every initializer must satisfy; initializer tests inherit InitializerContract."""

from __future__ import annotations

import re

import numpy as np
import pytest

from al_core.initialization import REGISTRY, Initializer


class InitializerContract:
    """Implement :meth:`make_initializer`; override :meth:`labels` for label-based ones."""

    def make_initializer(self) -> Initializer:
        raise NotImplementedError

    def labels(self, n_pool: int) -> np.ndarray | None:
        """Gold labels passed as ``y`` (None for initializers that need none)."""
        return None

    def embeddings(self, n_pool: int) -> np.ndarray | None:
        """Embeddings passed as ``X``: blobs for initializers that need them, else None."""
        if not self.make_initializer().needs_embeddings:
            return None
        rng = np.random.default_rng(n_pool)
        centres = rng.normal(size=(5, 6))
        return (centres[rng.integers(0, 5, n_pool)] + 0.3 * rng.normal(size=(n_pool, 6))).astype(
            np.float32
        )

    def select(self, n_pool: int, n: int, seed: int | None = 0) -> np.ndarray:
        init = self.make_initializer()
        extra = {"X": self.embeddings(n_pool)} if init.needs_embeddings else {}
        return init.select(n_pool, n, y=self.labels(n_pool), seed=seed, **extra)

    def test_metadata(self) -> None:
        cls = type(self.make_initializer())
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name)
        assert cls.description.strip() and "\n" not in cls.description
        assert REGISTRY[cls.name] is cls
        assert cls.needs_labels == (self.labels(10) is not None)

    @pytest.mark.parametrize(("n_pool", "n"), [(100, 10), (100, 1), (37, 36), (5, 5)])
    def test_exact_count_distinct_in_range(self, n_pool, n) -> None:
        out = self.select(n_pool, n)
        assert out.shape == (n,)
        assert out.dtype == np.int64
        assert len(np.unique(out)) == n
        assert out.min() >= 0 and out.max() < n_pool

    def test_reproducible(self) -> None:
        np.testing.assert_array_equal(self.select(200, 20, seed=3), self.select(200, 20, seed=3))

    def test_seed_changes_selection(self) -> None:
        picks = {tuple(sorted(self.select(200, 20, seed=s).tolist())) for s in range(5)}
        assert len(picks) == 5

    @pytest.mark.parametrize("n", [50, 51, 1000])
    def test_n_at_least_pool_returns_everything(self, n) -> None:
        out = self.select(50, n)
        assert sorted(out.tolist()) == list(range(50))

    def test_n_zero(self) -> None:
        assert self.select(30, 0).shape == (0,)

    def test_empty_pool(self) -> None:
        assert self.select(0, 5).shape == (0,)

    def test_negative_sizes_raise(self) -> None:
        with pytest.raises(ValueError):
            self.select(10, -1)
        with pytest.raises(ValueError):
            self.make_initializer().select(-1, 2, y=self.labels(0), X=self.embeddings(0))

    def test_missing_embeddings_raise(self) -> None:
        init = self.make_initializer()
        if init.needs_embeddings:
            with pytest.raises(ValueError, match="needs the items' embeddings"):
                init.select(20, 3, y=self.labels(20))
            with pytest.raises(ValueError, match="shape"):
                init.select(20, 3, y=self.labels(20), X=np.zeros((19, 4)))
