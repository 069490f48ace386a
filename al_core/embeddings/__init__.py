"""Embedders (texts -> features), the persistent embedding cache, and the registry.

Importing this package is cheap: scikit-learn, torch and sentence-transformers load on first
use.
"""

from al_core.embeddings.base import Embedder
from al_core.embeddings.cache import (
    DimensionMismatchError,
    EmbeddingCache,
    EmbeddingCacheError,
    model_slug,
)
from al_core.embeddings.sentence import (
    PACKAGED_MINILM_SHA256,
    ModelIntegrityError,
    SentenceEmbedder,
    packaged_model_dir,
    verify_packaged_model,
)
from al_core.embeddings.tfidf import TfidfEmbedder

REGISTRY: dict[str, type[Embedder]] = {cls.name: cls for cls in (TfidfEmbedder, SentenceEmbedder)}

__all__ = [
    "PACKAGED_MINILM_SHA256",
    "REGISTRY",
    "DimensionMismatchError",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingCacheError",
    "ModelIntegrityError",
    "SentenceEmbedder",
    "TfidfEmbedder",
    "model_slug",
    "packaged_model_dir",
    "verify_packaged_model",
]
