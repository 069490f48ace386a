"""The contract every query strategy must satisfy; strategy tests inherit StrategyContract."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import scipy.sparse as sp
from query_helpers import NoProba, SklearnLogReg, blobs

from al_core.query import (
    REGISTRY,
    LabelTypeError,
    QueryResult,
    QueryStrategy,
    StrategyRequirementError,
)

NUM_CLASSES = 3
N_POOL = 60


class Pool:
    """A pool split into labelled, unlabelled and ignored items, with a fitted classifier."""

    def __init__(self) -> None:
        self.X, self.y_all = blobs(N_POOL, NUM_CLASSES)
        rng = np.random.default_rng(7)
        order = rng.permutation(N_POOL)
        # Two of each class labelled, so the classifier sees every class.
        labeled = np.concatenate([order[self.y_all[order] == c][:2] for c in range(NUM_CLASSES)])
        rest = np.setdiff1d(order, labeled)
        self.ignored = rest[:8]
        self.unlabeled = rng.permutation(rest[8:])
        self.labeled = labeled
        self.y = self.y_all[labeled]
        self.clf = SklearnLogReg(NUM_CLASSES, seed=0).fit(self.X[labeled], self.y)
        for arr in (self.X, self.y_all, self.ignored, self.unlabeled, self.labeled, self.y):
            arr.setflags(write=False)  # shared across tests: strategies must not mutate inputs


@functools.cache
def shared_pool() -> Pool:
    """Built once per session; tests must not mutate it."""
    return Pool()


class StrategyContract:
    """Inherit and implement :meth:`make_strategy` to run the contract on a strategy."""

    def make_strategy(self) -> QueryStrategy:
        raise NotImplementedError

    @pytest.fixture
    def strategy(self) -> QueryStrategy:
        return self.make_strategy()

    @pytest.fixture
    def pool(self) -> Pool:
        return shared_pool()

    def query(self, strategy: QueryStrategy, pool: Pool, n: int, seed: int = 0, **kw):
        args = dict(
            clf=pool.clf,
            X=pool.X,
            indices_unlabeled=pool.unlabeled,
            indices_labeled=pool.labeled,
            y=pool.y,
            n=n,
        )
        args.update(kw)
        return strategy.query(**args, seed=seed)

    # -- metadata ------------------------------------------------------------------------

    def test_metadata(self, strategy: QueryStrategy) -> None:
        cls = type(strategy)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name)
        assert cls.description.strip() and "\n" not in cls.description
        assert set(cls.needs) <= {"probabilities", "embeddings"}
        assert cls.label_types and set(cls.label_types) <= {"single", "multi"}
        assert REGISTRY[cls.name] is cls
        assert cls.__doc__ and cls.__doc__.strip()

    # -- selection -----------------------------------------------------------------------

    def test_returns_n_distinct_unlabeled_indices(self, strategy, pool) -> None:
        result = self.query(strategy, pool, n=10)
        assert isinstance(result, QueryResult)
        assert result.indices.shape == (10,)
        assert np.issubdtype(result.indices.dtype, np.integer)
        assert len(np.unique(result.indices)) == 10
        assert np.isin(result.indices, pool.unlabeled).all()

    def test_never_returns_labeled_or_ignored(self, strategy, pool) -> None:
        for seed in range(5):
            result = self.query(strategy, pool, n=len(pool.unlabeled) - 1, seed=seed)
            assert not np.isin(result.indices, pool.labeled).any()
            assert not np.isin(result.indices, pool.ignored).any()

    def test_reproducible_under_same_seed(self, strategy, pool) -> None:
        a = self.query(strategy, pool, n=10, seed=123)
        b = self.query(self.make_strategy(), pool, n=10, seed=123)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.scores, b.scores)

    def test_n_larger_than_pool_returns_all_unlabeled(self, strategy, pool) -> None:
        result = self.query(strategy, pool, n=10 * N_POOL)
        assert sorted(result.indices.tolist()) == sorted(pool.unlabeled.tolist())

    def test_n_zero_returns_empty(self, strategy, pool) -> None:
        result = self.query(strategy, pool, n=0)
        assert result.indices.shape == (0,) and result.scores.shape == (0,)

    def test_empty_unlabeled_returns_empty(self, strategy, pool) -> None:
        result = self.query(strategy, pool, n=5, indices_unlabeled=np.empty(0, dtype=np.int64))
        assert result.indices.shape == (0,)

    def test_negative_n_raises(self, strategy, pool) -> None:
        with pytest.raises(ValueError):
            self.query(strategy, pool, n=-1)

    def test_duplicate_candidates_raise(self, strategy, pool) -> None:
        dup = np.concatenate([pool.unlabeled, pool.unlabeled[:1]])
        with pytest.raises(ValueError, match="duplicates"):
            self.query(strategy, pool, n=3, indices_unlabeled=dup)

    def test_labeled_candidates_raise(self, strategy, pool) -> None:
        overlap = np.concatenate([pool.unlabeled, pool.labeled[:1]])
        with pytest.raises(ValueError, match="overlap"):
            self.query(strategy, pool, n=3, indices_unlabeled=overlap)

    def test_labels_must_match_labeled_indices(self, strategy, pool) -> None:
        with pytest.raises(ValueError, match="y has"):
            strategy.query(pool.clf, pool.X, pool.unlabeled, pool.labeled, pool.y[:-1], 3, seed=0)

    @pytest.mark.parametrize("bad", [-1, N_POOL, N_POOL + 5])
    def test_out_of_range_candidates_raise(self, strategy, pool, bad) -> None:
        candidates = np.concatenate([pool.unlabeled[:5], [bad]])
        with pytest.raises(IndexError):
            self.query(strategy, pool, n=3, indices_unlabeled=candidates)

    def test_scores_aligned_with_indices_and_sorted(self, strategy, pool) -> None:
        seed = 11
        result = self.query(strategy, pool, n=15, seed=seed)
        assert result.scores.shape == result.indices.shape
        assert np.all(np.diff(result.scores) <= 0), "scores must be sorted best-first"
        # The base seeds one generator and hands it to score() first: replay that call.
        expected = strategy.score(
            pool.clf,
            pool.X,
            pool.unlabeled,
            pool.labeled,
            pool.y,
            np.random.default_rng(seed),
        )
        by_index = dict(zip(pool.unlabeled.tolist(), expected.tolist(), strict=True))
        np.testing.assert_allclose(result.scores, [by_index[i] for i in result.indices])
        # Nothing left out scores higher than the last item taken.
        left_out = np.setdiff1d(pool.unlabeled, result.indices)
        assert max(by_index[i] for i in left_out) <= result.scores[-1]

    def test_sparse_features(self, strategy, pool) -> None:
        X = sp.csr_matrix(pool.X)
        clf = SklearnLogReg(NUM_CLASSES, seed=0).fit(X[pool.labeled], pool.y)
        result = self.query(strategy, pool, n=7, X=X, clf=clf)
        assert len(np.unique(result.indices)) == 7
        assert np.isin(result.indices, pool.unlabeled).all()

    # -- requirements --------------------------------------------------------------------

    def test_classifier_without_predict_proba(self, strategy, pool) -> None:
        clf = NoProba()
        if "probabilities" in strategy.needs:
            with pytest.raises(StrategyRequirementError, match=re.escape(strategy.name)):
                self.query(strategy, pool, n=3, clf=clf)
        else:
            assert len(self.query(strategy, pool, n=3, clf=clf).indices) == 3

    def test_multi_label_y(self, strategy, pool) -> None:
        y_multi = np.zeros((len(pool.labeled), NUM_CLASSES), dtype=np.int8)
        y_multi[np.arange(len(pool.labeled)), pool.y] = 1
        if "multi" in strategy.label_types:
            result = self.query(strategy, pool, n=4, y=y_multi)
            assert np.isin(result.indices, pool.unlabeled).all()
        else:
            with pytest.raises(LabelTypeError, match=re.escape(strategy.name)):
                self.query(strategy, pool, n=3, y=y_multi)
