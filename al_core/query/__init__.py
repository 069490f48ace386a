"""Query strategies: which unlabelled items to ask an annotator about next."""

from al_core.query.base import (
    DEFAULT_CHUNK_SIZE,
    LabelTypeError,
    QueryResult,
    QueryStrategy,
    StrategyRequirementError,
    predict_proba_chunked,
)
from al_core.query.random import RandomSampling
from al_core.query.uncertainty import (
    BreakingTies,
    LeastConfidence,
    PredictionEntropy,
    ProbabilityScoreStrategy,
)

REGISTRY: dict[str, type[QueryStrategy]] = {
    cls.name: cls for cls in (RandomSampling, LeastConfidence, PredictionEntropy, BreakingTies)
}

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "REGISTRY",
    "BreakingTies",
    "LabelTypeError",
    "LeastConfidence",
    "PredictionEntropy",
    "ProbabilityScoreStrategy",
    "QueryResult",
    "QueryStrategy",
    "RandomSampling",
    "StrategyRequirementError",
    "predict_proba_chunked",
]
