"""Query strategies: which unlabelled items to ask an annotator about next."""

from al_core.query.badge import BADGE, GradientEmbeddingSpace
from al_core.query.base import (
    DEFAULT_CHUNK_SIZE,
    NEEDS,
    LabelTypeError,
    QueryResult,
    QueryStrategy,
    StrategyRequirementError,
    top_n,
)
from al_core.query.bayesian import BALD
from al_core.query.chunking import embed_chunked, predict_proba_chunked
from al_core.query.discriminative import (
    DiscriminativeActiveLearning,
    DiscriminativeRepresentationLearning,
)
from al_core.query.diversity import ClusterMargin, DiverseMiniBatch, InformationDensity
from al_core.query.embedding import EmbeddingKMeans, GreedyCoreset, LightweightCoreset
from al_core.query.gradient import (
    ExpectedGradientLength,
    ExpectedGradientLengthLayer,
    ExpectedGradientLengthMaxWord,
)
from al_core.query.multilabel import (
    AdaptiveActiveLearning,
    CategoryVectorInconsistencyAndRanking,
    LabelCardinalityInconsistency,
)
from al_core.query.neighbours import ContrastiveActiveLearning, ProbCover, TypiClust
from al_core.query.random import RandomSampling
from al_core.query.uncertainty import (
    BreakingTies,
    LeastConfidence,
    PredictionEntropy,
    ProbabilityScoreStrategy,
)
from al_core.query.wrappers import (
    SEALS,
    AnchorSubsampling,
    ClassBalancer,
    RandomSubsampling,
    Wrapper,
)

REGISTRY: dict[str, type[QueryStrategy]] = {
    cls.name: cls
    for cls in (
        RandomSampling,
        LeastConfidence,
        PredictionEntropy,
        BreakingTies,
        BALD,
        EmbeddingKMeans,
        GreedyCoreset,
        LightweightCoreset,
        ProbCover,
        ContrastiveActiveLearning,
        BADGE,
        DiscriminativeActiveLearning,
        DiscriminativeRepresentationLearning,
        ExpectedGradientLength,
        ExpectedGradientLengthMaxWord,
        ExpectedGradientLengthLayer,
        CategoryVectorInconsistencyAndRanking,
        LabelCardinalityInconsistency,
        AdaptiveActiveLearning,
        ClassBalancer,
        SEALS,
        AnchorSubsampling,
        RandomSubsampling,
        TypiClust,
        ClusterMargin,
        DiverseMiniBatch,
        InformationDensity,
    )
}


def make_strategy(name: str, **params) -> QueryStrategy:
    """A strategy from its registry name; ``"wrapper:base"`` composes a wrapper with a base.

    ``params`` go to the (outer) constructor, e.g. ``make_strategy("seals:badge", k=50)``.
    """
    outer, _, inner = name.partition(":")
    if outer not in REGISTRY:
        raise KeyError(outer)
    cls = REGISTRY[outer]
    if inner:
        if not issubclass(cls, Wrapper):
            raise ValueError(f"strategy {outer!r} is not a wrapper and takes no base strategy")
        params["base"] = make_strategy(inner)
    return cls(**params)


__all__ = [
    "BADGE",
    "BALD",
    "DEFAULT_CHUNK_SIZE",
    "NEEDS",
    "REGISTRY",
    "SEALS",
    "AdaptiveActiveLearning",
    "AnchorSubsampling",
    "BreakingTies",
    "CategoryVectorInconsistencyAndRanking",
    "ClassBalancer",
    "ClusterMargin",
    "ContrastiveActiveLearning",
    "DiscriminativeActiveLearning",
    "DiscriminativeRepresentationLearning",
    "DiverseMiniBatch",
    "EmbeddingKMeans",
    "ExpectedGradientLength",
    "ExpectedGradientLengthLayer",
    "ExpectedGradientLengthMaxWord",
    "GradientEmbeddingSpace",
    "GreedyCoreset",
    "InformationDensity",
    "LabelCardinalityInconsistency",
    "LabelTypeError",
    "LeastConfidence",
    "LightweightCoreset",
    "PredictionEntropy",
    "ProbCover",
    "ProbabilityScoreStrategy",
    "QueryResult",
    "QueryStrategy",
    "RandomSampling",
    "RandomSubsampling",
    "StrategyRequirementError",
    "TypiClust",
    "Wrapper",
    "embed_chunked",
    "make_strategy",
    "predict_proba_chunked",
    "top_n",
]
