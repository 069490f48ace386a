"""Shared fixtures of the embedding tests. No network: hub lookups must fail fast."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from al_core.embeddings.base import Embedder  # noqa: E402


class CountingEmbedder(Embedder):
    """A cacheable fake: deterministic vectors derived from each text's SHA-256; records
    every text it is asked to embed."""

    name = "counting"
    description = "test double"
    cacheable = True
    dense = True

    def __init__(self, dim: int = 4, model_id: str = "fake-model-v1") -> None:
        self.dim = dim
        self._model_id = model_id
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        texts = list(texts)
        self.calls.append(texts)
        return (
            np.stack([vector_of(t, self.dim) for t in texts])
            if texts
            else np.zeros((0, self.dim), dtype=np.float32)
        )


def vector_of(text: str, dim: int) -> np.ndarray:
    digest = hashlib.sha256(text.encode("utf-8")).digest() * (1 + dim // 32)
    return np.frombuffer(digest[:dim], dtype=np.uint8).astype(np.float32) / 255.0


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def counting_cls() -> type[CountingEmbedder]:
    """The fake embedder class, for tests that need several instances."""
    return CountingEmbedder
