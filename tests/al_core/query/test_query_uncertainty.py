"""Uncertainty strategies: the contract, hand-computed scores and rankings, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from query_contract import StrategyContract
from query_helpers import FixedProba, SklearnLogReg, blobs, index_features

from al_core.query import (
    BreakingTies,
    LeastConfidence,
    PredictionEntropy,
    ProbabilityScoreStrategy,
    predict_proba_chunked,
)


class TestLeastConfidenceContract(StrategyContract):
    def make_strategy(self) -> LeastConfidence:
        return LeastConfidence()


class TestPredictionEntropyContract(StrategyContract):
    def make_strategy(self) -> PredictionEntropy:
        return PredictionEntropy()


class TestBreakingTiesContract(StrategyContract):
    def make_strategy(self) -> BreakingTies:
        return BreakingTies(chunk_size=7)  # several chunks per query


# Rows: A, B, C, D.
PROBA = np.array(
    [
        [0.5, 0.3, 0.2],  # A
        [0.9, 0.05, 0.05],  # B
        [0.34, 0.33, 0.33],  # C
        [0.6, 0.4, 0.0],  # D (a zero probability: 0 * log 0 = 0)
    ]
)
A, B, C, D = range(4)

# Worked by hand:
# least confidence 1 - max p: A 1-0.5 = 0.5, B 1-0.9 = 0.1, C 1-0.34 = 0.66, D 1-0.6 = 0.4
LC_SCORES = [0.5, 0.1, 0.66, 0.4]
# entropy -sum p ln p (nats), with ln 0.5 = -0.693147, ln 0.3 = -1.203973, ln 0.2 = -1.609438,
# ln 0.9 = -0.105361, ln 0.05 = -2.995732, ln 0.34 = -1.078810, ln 0.33 = -1.108663,
# ln 0.6 = -0.510826, ln 0.4 = -0.916291:
#   A 0.5*0.693147 + 0.3*1.203973 + 0.2*1.609438 = 0.346574 + 0.361192 + 0.321888 = 1.029653
#   B 0.9*0.105361 + 2*0.05*2.995732             = 0.094825 + 0.299573            = 0.394398
#   C 0.34*1.078810 + 2*0.33*1.108663            = 0.366795 + 0.731718            = 1.098513
#   D 0.6*0.510826 + 0.4*0.916291 + 0            = 0.306495 + 0.366516            = 0.673012
ENTROPY_SCORES = [1.029653, 0.394398, 1.098513, 0.673012]
# breaking ties -(p1 - p2): A -(0.5-0.3) = -0.2, B -(0.9-0.05) = -0.85, C -(0.34-0.33) = -0.01,
# D -(0.6-0.4) = -0.2
BT_SCORES = [-0.2, -0.85, -0.01, -0.2]


def query_fixed(strategy, proba, n, seed=0, candidates=None):
    clf = FixedProba(proba)
    X = index_features(len(proba))
    candidates = np.arange(len(proba)) if candidates is None else np.asarray(candidates)
    return strategy.query(
        clf, X, candidates, np.empty(0, np.int64), np.empty(0, np.int64), n, seed=seed
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (LeastConfidence(), LC_SCORES),
        (PredictionEntropy(), ENTROPY_SCORES),
        (BreakingTies(), BT_SCORES),
    ],
    ids=["least-confidence", "prediction-entropy", "breaking-ties"],
)
def test_hand_computed_scores(strategy, expected) -> None:
    np.testing.assert_allclose(strategy.score_proba(PROBA), expected, atol=1e-6)


def test_least_confidence_ranking() -> None:
    result = query_fixed(LeastConfidence(), PROBA, n=4)
    assert result.indices.tolist() == [C, A, D, B]
    np.testing.assert_allclose(result.scores, [0.66, 0.5, 0.4, 0.1])


def test_entropy_ranking() -> None:
    result = query_fixed(PredictionEntropy(), PROBA, n=4)
    assert result.indices.tolist() == [C, A, D, B]
    np.testing.assert_allclose(result.scores, [1.098513, 1.029653, 0.673012, 0.394398], atol=1e-6)


def test_breaking_ties_ranking() -> None:
    result = query_fixed(BreakingTies(), PROBA, n=4)
    # A and D both have margin 0.2 on paper; in floating point 0.6 - 0.4 is a hair below 0.2,
    # so only their relative order is left unchecked here.
    assert result.indices[0] == C and result.indices[3] == B
    assert set(result.indices[1:3].tolist()) == {A, D}
    np.testing.assert_allclose(result.scores, [-0.01, -0.2, -0.2, -0.85])


def test_exact_ties_are_broken_by_the_seed() -> None:
    # Both margins are exactly 0.25 in binary floating point: 0.5 - 0.25 and 0.625 - 0.375.
    proba = np.array([[0.5, 0.25, 0.25], [0.625, 0.375, 0.0], [0.9, 0.05, 0.05]])
    np.testing.assert_array_equal(BreakingTies.score_proba(proba), [-0.25, -0.25, -0.85])
    firsts = {query_fixed(BreakingTies(), proba, n=1, seed=s).indices[0] for s in range(30)}
    assert firsts == {0, 1}
    same = [query_fixed(BreakingTies(), proba, n=3, seed=5).indices.tolist() for _ in range(3)]
    assert same[0] == same[1] == same[2]


def test_least_confidence_and_breaking_ties_disagree() -> None:
    # E: [0.4, 0.4, 0.2]    LC 1-0.4 = 0.60, margin 0.4-0.4 = 0.00, entropy 1.054920
    # F: [0.35, 0.33, 0.32] LC 1-0.35 = 0.65, margin 0.35-0.33 = 0.02, entropy 1.097916
    #    (0.35*1.049822 + 0.33*1.108663 + 0.32*1.139434 = 0.367438 + 0.365859 + 0.364619)
    proba = np.array([[0.4, 0.4, 0.2], [0.35, 0.33, 0.32]])
    E, F = 0, 1
    assert query_fixed(LeastConfidence(), proba, n=1).indices.tolist() == [F]
    assert query_fixed(BreakingTies(), proba, n=1).indices.tolist() == [E]
    assert query_fixed(PredictionEntropy(), proba, n=1).indices.tolist() == [F]
    np.testing.assert_allclose(LeastConfidence.score_proba(proba), [0.6, 0.65])
    np.testing.assert_allclose(BreakingTies.score_proba(proba), [0.0, -0.02], atol=1e-12)
    np.testing.assert_allclose(
        PredictionEntropy.score_proba(proba), [1.054920, 1.097916], atol=1e-6
    )


def test_only_candidates_are_scored() -> None:
    clf = FixedProba(PROBA)
    result = LeastConfidence().query(
        clf, index_features(4), np.array([B, D]), np.array([A]), np.array([0]), 5, seed=0
    )
    assert result.indices.tolist() == [D, B]
    assert sum(clf.calls) == 2


def test_entropy_extremes() -> None:
    proba = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    scores = PredictionEntropy.score_proba(proba)
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(scores, [0.0, np.log(3)], atol=1e-12)


def test_binary_breaking_ties_matches_least_confidence_order() -> None:
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]])
    # margins 0.8, 0.1, 0.4; least confidence 0.1, 0.45, 0.3: the same order in two classes
    np.testing.assert_allclose(BreakingTies.score_proba(proba), [-0.8, -0.1, -0.4])
    assert query_fixed(BreakingTies(), proba, 3).indices.tolist() == [1, 2, 0]
    assert query_fixed(LeastConfidence(), proba, 3).indices.tolist() == [1, 2, 0]


@pytest.mark.parametrize("cls", [LeastConfidence, PredictionEntropy, BreakingTies])
def test_wrong_proba_shape_raises(cls) -> None:
    class BadProba(FixedProba):
        def predict_proba(self, X):
            return np.full(len(X) + 1, 0.5)

    with pytest.raises(ValueError, match=cls.name):
        cls().query(BadProba(PROBA), index_features(4), np.arange(4), np.empty(0), np.empty(0), 2)


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LeastConfidence(chunk_size=0)


def test_strategies_share_the_base() -> None:
    for cls in (LeastConfidence, PredictionEntropy, BreakingTies):
        assert issubclass(cls, ProbabilityScoreStrategy)
        assert cls.needs == ("probabilities",) and cls.label_types == ("single",)


# -- chunking --------------------------------------------------------------------------------


def test_predict_proba_chunked_matches_single_call() -> None:
    X, y = blobs(50, 3)
    clf = SklearnLogReg(3, seed=0).fit(X[:20], y[:20])
    rows = np.random.default_rng(0).permutation(50)[:37]
    whole = clf.predict_proba(X[rows])
    for chunk_size in (1, 4, 10, 36, 37, 1000):
        chunked = predict_proba_chunked(clf, X, rows, chunk_size)
        np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-15)


def test_predict_proba_chunked_calls_in_chunks() -> None:
    clf = FixedProba(np.tile(PROBA, (3, 1)))  # 12 rows
    out = predict_proba_chunked(clf, index_features(12), np.arange(12), chunk_size=5)
    assert clf.calls == [5, 5, 2]
    np.testing.assert_array_equal(out, np.tile(PROBA, (3, 1)))


@pytest.mark.parametrize("cls", [LeastConfidence, PredictionEntropy, BreakingTies])
def test_strategy_scores_independent_of_chunk_size(cls) -> None:
    X, y = blobs(50, 3)
    clf = SklearnLogReg(3, seed=0).fit(X[:15], y[:15])
    candidates = np.arange(15, 50)
    results = [
        cls(chunk_size=c).query(clf, X, candidates, np.arange(15), y[:15], 10, seed=3)
        for c in (3, 8192)
    ]
    np.testing.assert_array_equal(results[0].indices, results[1].indices)
    np.testing.assert_allclose(results[0].scores, results[1].scores)
