"""The shared contract, run on every strategy of the registry (the original four have their own
files). Small hyperparameters keep each query on the 60-item pool in milliseconds."""

from __future__ import annotations

from query_contract import StrategyContract

from al_core import query as q


class TestBALD(StrategyContract):
    def make_strategy(self):
        return q.BALD(n_samples=4)


class TestEmbeddingKMeans(StrategyContract):
    def make_strategy(self):
        return q.EmbeddingKMeans()


class TestGreedyCoreset(StrategyContract):
    def make_strategy(self):
        return q.GreedyCoreset()


class TestLightweightCoreset(StrategyContract):
    def make_strategy(self):
        return q.LightweightCoreset()


class TestProbCover(StrategyContract):
    def make_strategy(self):
        return q.ProbCover(k=10)


class TestContrastiveActiveLearning(StrategyContract):
    def make_strategy(self):
        return q.ContrastiveActiveLearning(k=3)


class TestBADGE(StrategyContract):
    def make_strategy(self):
        return q.BADGE(chunk_size=16)  # several chunks


class TestDiscriminativeActiveLearning(StrategyContract):
    def make_strategy(self):
        return q.DiscriminativeActiveLearning(sub_batches=2)


class TestDiscriminativeRepresentationLearning(StrategyContract):
    def make_strategy(self):
        return q.DiscriminativeRepresentationLearning(sub_batches=2)


class TestExpectedGradientLength(StrategyContract):
    def make_strategy(self):
        return q.ExpectedGradientLength()


class TestExpectedGradientLengthMaxWord(StrategyContract):
    def make_strategy(self):
        return q.ExpectedGradientLengthMaxWord()


class TestExpectedGradientLengthLayer(StrategyContract):
    def make_strategy(self):
        return q.ExpectedGradientLengthLayer("classifier")


class TestCategoryVectorInconsistencyAndRanking(StrategyContract):
    def make_strategy(self):
        return q.CategoryVectorInconsistencyAndRanking()


class TestLabelCardinalityInconsistency(StrategyContract):
    def make_strategy(self):
        return q.LabelCardinalityInconsistency()


class TestAdaptiveActiveLearning(StrategyContract):
    def make_strategy(self):
        return q.AdaptiveActiveLearning(betas=(0.0, 1.0))


class TestClassBalancer(StrategyContract):
    def make_strategy(self):
        return q.ClassBalancer(q.BreakingTies())


class TestSEALS(StrategyContract):
    def make_strategy(self):
        return q.SEALS(q.LeastConfidence(), k=5)


class TestAnchorSubsampling(StrategyContract):
    def make_strategy(self):
        return q.AnchorSubsampling(q.PredictionEntropy(), num_anchors=2, k=10, subpool_size=20)


class TestRandomSubsampling(StrategyContract):
    def make_strategy(self):
        return q.RandomSubsampling(q.BreakingTies(), subsample_size=20)


class TestTypiClust(StrategyContract):
    def make_strategy(self):
        return q.TypiClust(k=5)


class TestClusterMargin(StrategyContract):
    def make_strategy(self):
        return q.ClusterMargin(shortlist_factor=2)


class TestDiverseMiniBatch(StrategyContract):
    def make_strategy(self):
        return q.DiverseMiniBatch(shortlist_factor=2)


class TestInformationDensity(StrategyContract):
    def make_strategy(self):
        return q.InformationDensity()


class TestSEALSWithBatchBase(StrategyContract):
    """A wrapper around a batch-aware, embedding-based base."""

    def make_strategy(self):
        return q.SEALS(q.BADGE(), k=8)


CONTRACTED = {
    cls().make_strategy().name
    for name, cls in dict(globals()).items()
    if name.startswith("Test") and issubclass(cls, StrategyContract)
}


def test_every_registered_strategy_runs_the_contract() -> None:
    own_files = {"random", "least-confidence", "prediction-entropy", "breaking-ties"}
    assert set(q.REGISTRY) - own_files == CONTRACTED
