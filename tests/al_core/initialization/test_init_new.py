"""class-balanced, embedding-kmeans and typiclust: the contract, hand-computed cases, and the
two callers (the learner's initialize_with and the pipeline's first batch)."""

from __future__ import annotations

import numpy as np
import pytest
from init_contract import InitializerContract

from al_core.initialization import (
    ClassBalancedInitializer,
    EmbeddingKMeansInitializer,
    TypiClustInitializer,
    allocate_equal,
)


class TestClassBalancedContract(InitializerContract):
    def make_initializer(self):
        return ClassBalancedInitializer()

    def labels(self, n_pool: int) -> np.ndarray:
        return (np.arange(n_pool) % 7 == 0).astype(np.int64) + (np.arange(n_pool) % 3 == 0)


class TestEmbeddingKMeansContract(InitializerContract):
    def make_initializer(self):
        return EmbeddingKMeansInitializer()


class TestTypiClustContract(InitializerContract):
    def make_initializer(self):
        return TypiClustInitializer()


def test_allocate_equal_water_filling() -> None:
    # counts 10, 2, 30 and n = 12: 4 each, but class 1 has 2; its 2 spare go 1 + 1 to the others
    rng = np.random.default_rng(0)
    assert allocate_equal(np.array([10, 2, 30]), 12, rng).tolist() == [5, 2, 5]
    # n = 2 over 3 classes: one each to two random classes
    assert sorted(allocate_equal(np.array([5, 5, 5]), 2, rng).tolist()) == [0, 1, 1]
    assert allocate_equal(np.array([1, 1]), 9, rng).tolist() == [1, 1]


def test_class_balanced_equal_counts() -> None:
    y = np.array([0] * 90 + [1] * 8 + [2] * 2)
    picks = ClassBalancedInitializer().select(100, 12, y=y, seed=0)
    assert np.bincount(y[picks]).tolist() == [5, 5, 2]
    with pytest.raises(ValueError, match="gold labels"):
        ClassBalancedInitializer().select(100, 3)


THREE_GROUPS = np.array(
    [[0, 0], [0.1, 0], [-0.1, 0], [0, 0.1]]  # group A, centre row 0
    + [[5, 5], [5.1, 5], [4.9, 5]]  # group B, centre row 4
    + [[-5, 5], [-5, 5.1], [-5, 4.9]],  # group C, centre row 7
    dtype=np.float32,
)


@pytest.mark.parametrize("cls", [EmbeddingKMeansInitializer, TypiClustInitializer])
def test_cold_start_takes_one_central_item_per_group(cls) -> None:
    # Normalised, the three groups point in clearly different directions; the item nearest each
    # centre (k-means) or most typical (TypiClust) is the middle one of each group.
    X = THREE_GROUPS + np.array([0.0, 10.0], dtype=np.float32)  # keep directions apart
    for seed in range(3):
        picks = cls().select(len(X), 3, X=X, seed=seed)
        groups = sorted(int(p >= 4) + int(p >= 7) for p in picks)
        assert groups == [0, 1, 2], picks


def test_learner_passes_embeddings_to_the_initializer() -> None:
    from al_core.classifiers import EmbeddingLogRegClassifier
    from al_core.learner import ActiveLearner
    from al_core.query import BreakingTies

    X = THREE_GROUPS + np.array([0.0, 10.0], dtype=np.float32)
    y = np.array([0] * 4 + [1] * 3 + [2] * 3)
    learner = ActiveLearner(
        lambda: EmbeddingLogRegClassifier(3, seed=0), BreakingTies(), X, num_classes=3, seed=1
    )
    picked = learner.initialize_with(TypiClustInitializer(), 3, y_gold=y)
    assert sorted(y[picked].tolist()) == [0, 1, 2]
    assert learner.initialized
