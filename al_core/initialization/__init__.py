"""Initializers: which items to label before the first model is trained."""

from al_core.initialization.base import Initializer
from al_core.initialization.random import RandomInitializer
from al_core.initialization.stratified import (
    StratifiedInitializer,
    allocate_proportional,
    strata_of,
)

REGISTRY: dict[str, type[Initializer]] = {
    cls.name: cls for cls in (RandomInitializer, StratifiedInitializer)
}

__all__ = [
    "REGISTRY",
    "Initializer",
    "RandomInitializer",
    "StratifiedInitializer",
    "allocate_proportional",
    "strata_of",
]
