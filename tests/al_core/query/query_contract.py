"""The contract every query strategy must satisfy; strategy tests inherit StrategyContract."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import scipy.sparse as sp
from query_helpers import Lacking, NoProba, SklearnLogReg, blobs

from al_core.classifiers import EmbeddingLogRegClassifier, LogisticRegressionClassifier
from al_core.query import (
    NEEDS,
    REGISTRY,
    LabelTypeError,
    QueryResult,
    QueryStrategy,
    StrategyRequirementError,
)

NUM_CLASSES = 3
N_POOL = 60


class Pool:
    """A pool split into labelled, unlabelled and ignored items, with fitted classifiers.

    ``multi_label=True`` gives each item its class plus, for a third of them, the next class
    as a second label. ``clf`` is the real ``embedding-logreg`` (probabilities and embeddings);
    ``torch_clf`` (built on first use) also has MC dropout and gradients.
    """

    def __init__(self, multi_label: bool = False) -> None:
        self.X, self.y_all = blobs(N_POOL, NUM_CLASSES)
        self.multi_label = multi_label
        rng = np.random.default_rng(7)
        order = rng.permutation(N_POOL)
        # Two of each class labelled, so the classifier sees every class.
        labeled = np.concatenate([order[self.y_all[order] == c][:2] for c in range(NUM_CLASSES)])
        rest = np.setdiff1d(order, labeled)
        self.ignored = rest[:8]
        self.unlabeled = rng.permutation(rest[8:])
        self.labeled = labeled
        if multi_label:
            y = np.zeros((N_POOL, NUM_CLASSES), dtype=np.int8)
            y[np.arange(N_POOL), self.y_all] = 1
            y[np.arange(0, N_POOL, 3), (self.y_all[::3] + 1) % NUM_CLASSES] = 1
            self.y_all = y
        self.y = self.y_all[labeled]
        self.clf = EmbeddingLogRegClassifier(NUM_CLASSES, multi_label=multi_label, seed=0).fit(
            self.X[labeled], self.y
        )
        self._torch = None
        for arr in (self.X, self.y_all, self.ignored, self.unlabeled, self.labeled, self.y):
            arr.setflags(write=False)  # shared across tests: strategies must not mutate inputs

    @property
    def torch_clf(self):
        if self._torch is None:
            from torch_model import TinyTorchClassifier

            self._torch = TinyTorchClassifier(NUM_CLASSES, seed=0).fit(self.X[self.labeled], self.y)
        return self._torch

    def classifiers(self) -> dict[str, object]:
        """Every classifier kind of the tests: real scikit-learn ones and the torch one."""
        out = {
            "embedding-logreg": self.clf,
            "logreg": LogisticRegressionClassifier(
                NUM_CLASSES, multi_label=self.multi_label, seed=0
            ).fit(self.X[self.labeled], self.y),
        }
        if not self.multi_label:
            out["torch"] = self.torch_clf
        return out


@functools.cache
def shared_pool(multi_label: bool = False) -> Pool:
    """Built once per session and label type; tests must not mutate it."""
    return Pool(multi_label)


def capable(clf, needs) -> bool:
    return all(NEEDS[n] is None or callable(getattr(clf, NEEDS[n], None)) for n in needs)


class StrategyContract:
    """Inherit and implement :meth:`make_strategy` to run the contract on a strategy."""

    def make_strategy(self) -> QueryStrategy:
        raise NotImplementedError

    @pytest.fixture
    def strategy(self) -> QueryStrategy:
        return self.make_strategy()

    @pytest.fixture
    def pool(self, strategy) -> Pool:
        """The single-label pool, or the multi-label one for multi-label-only strategies."""
        return shared_pool("single" not in strategy.label_types)

    def classifier(self, strategy: QueryStrategy, pool: Pool):
        """The pool's classifier that has what ``strategy`` needs (torch for gradients)."""
        if capable(pool.clf, strategy.needs):
            return pool.clf
        return pool.torch_clf

    def query(self, strategy: QueryStrategy, pool: Pool, n: int, seed: int = 0, **kw):
        args = dict(
            clf=self.classifier(strategy, pool),
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
        assert set(cls.needs) <= set(NEEDS)
        assert set(strategy.needs) >= set(cls.needs)
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
        for seed in range(2):
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
            self.query(strategy, pool, n=3, y=pool.y[:-1])

    @pytest.mark.parametrize("bad", [-1, N_POOL, N_POOL + 5])
    def test_out_of_range_candidates_raise(self, strategy, pool, bad) -> None:
        candidates = np.concatenate([pool.unlabeled[:5], [bad]])
        with pytest.raises(IndexError):
            self.query(strategy, pool, n=3, indices_unlabeled=candidates)

    def test_scores_aligned_with_indices_and_sorted(self, strategy, pool) -> None:
        seed = 11
        result = self.query(strategy, pool, n=15, seed=seed)
        assert result.scores.shape == result.indices.shape
        assert not np.isnan(result.scores).any()
        if strategy.batch_aware:  # scores in pick order; the batch is chosen as a whole
            return
        assert np.all(np.diff(result.scores) <= 0), "scores must be sorted best-first"
        # The base seeds one generator and hands it to score() first: replay that call.
        expected = strategy.score(
            self.classifier(strategy, pool),
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
        if not set(strategy.needs) <= {"probabilities"} or pool.multi_label:
            pytest.skip("embeddings, MC dropout and gradients come from dense-input models")
        X = sp.csr_matrix(pool.X)
        clf = SklearnLogReg(NUM_CLASSES, seed=0).fit(X[pool.labeled], pool.y)
        result = self.query(strategy, pool, n=7, X=X, clf=clf)
        assert len(np.unique(result.indices)) == 7
        assert np.isin(result.indices, pool.unlabeled).all()

    def test_does_not_mutate_inputs(self, strategy, pool) -> None:
        X = pool.X.copy()
        self.query(strategy, pool, n=5, X=X)
        np.testing.assert_array_equal(X, pool.X)

    # -- requirements --------------------------------------------------------------------

    def test_classifier_without_predict_proba(self, strategy, pool) -> None:
        clf = NoProba()
        if any(NEEDS[n] for n in strategy.needs):
            with pytest.raises(StrategyRequirementError, match=re.escape(strategy.name)):
                self.query(strategy, pool, n=3, clf=clf)
        else:
            assert len(self.query(strategy, pool, n=3, clf=clf).indices) == 3

    def test_each_missing_capability_raises(self, strategy, pool) -> None:
        full = self.classifier(strategy, pool)
        for need in strategy.needs:
            method = NEEDS[need]
            if method is None:
                continue
            with pytest.raises(StrategyRequirementError, match=f"needs {need}"):
                self.query(strategy, pool, n=3, clf=Lacking(full, method))

    def test_runs_with_each_capable_classifier(self, strategy, pool) -> None:
        for name, clf in pool.classifiers().items():
            if capable(clf, strategy.needs):
                result = self.query(strategy, pool, n=6, clf=clf)
                assert len(np.unique(result.indices)) == 6, name
                assert np.isin(result.indices, pool.unlabeled).all(), name
            else:
                with pytest.raises(StrategyRequirementError):
                    self.query(strategy, pool, n=3, clf=clf)

    def test_other_label_type(self, strategy, pool) -> None:
        """The label type the pool does not have: accepted if declared, else a clear error."""
        other = shared_pool(not pool.multi_label)
        kind = "multi" if other.multi_label else "single"
        if kind in strategy.label_types:
            result = self.query(strategy, other, n=4, clf=self.classifier(strategy, other))
            assert np.isin(result.indices, other.unlabeled).all()
        else:
            with pytest.raises(LabelTypeError, match=re.escape(strategy.name)):
                self.query(strategy, pool, n=3, y=other.y)
