"""Initializers: which items to label before the first model is trained."""

from al_core.initialization.balanced import ClassBalancedInitializer, allocate_equal
from al_core.initialization.base import Initializer, check_embeddings
from al_core.initialization.cold_start import EmbeddingKMeansInitializer, TypiClustInitializer
from al_core.initialization.random import RandomInitializer
from al_core.initialization.stratified import (
    StratifiedInitializer,
    allocate_proportional,
    strata_of,
)

REGISTRY: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (
        RandomInitializer,
        StratifiedInitializer,
        ClassBalancedInitializer,
        EmbeddingKMeansInitializer,
        TypiClustInitializer,
    )
}

__all__ = [
    "REGISTRY",
    "ClassBalancedInitializer",
    "EmbeddingKMeansInitializer",
    "Initializer",
    "RandomInitializer",
    "StratifiedInitializer",
    "TypiClustInitializer",
    "allocate_equal",
    "allocate_proportional",
    "check_embeddings",
    "strata_of",
]
