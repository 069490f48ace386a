"""Vector indices for neighbour-based strategies: one protocol, exact and approximate backends."""

from al_core.indices.approximate import HNSWIndex
from al_core.indices.base import METRICS, VectorIndex, normalize_rows
from al_core.indices.exact import ExactIndex

REGISTRY: dict[str, type[VectorIndex]] = {cls.name: cls for cls in (ExactIndex, HNSWIndex)}


def make_index(name: str, metric: str = "cosine") -> VectorIndex:
    """A fresh, empty index of kind ``name`` (``exact`` or ``hnsw``) for ``metric``."""
    if name not in REGISTRY:
        raise ValueError(f"unknown vector index {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name](metric=metric)


__all__ = [
    "METRICS",
    "REGISTRY",
    "ExactIndex",
    "HNSWIndex",
    "VectorIndex",
    "make_index",
    "normalize_rows",
]
