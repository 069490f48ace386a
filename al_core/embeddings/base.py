"""The embedder protocol: texts in, a feature matrix out.

``cacheable`` embedders are pretrained and fixed, so a text's vector depends only on the text
and ``model_id``: the workspace caches those by content hash and embeds each text once, ever.
Embedders fitted on the corpus (TF-IDF) are not cacheable and are refitted when needed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Self

from al_core.features import Features


class Embedder(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    cacheable: ClassVar[bool] = False
    dense: ClassVar[bool] = True

    @property
    def model_id(self) -> str:
        """Identifies the weights; the embedding cache is keyed by it."""
        return self.name

    def fit(self, texts: Sequence[str]) -> Self:  # noqa: B027 - pretrained embedders need no fit
        """Fit on the corpus (a no-op for pretrained embedders)."""
        return self

    @abstractmethod
    def transform(self, texts: Sequence[str], progress: bool = False) -> Features:
        """Embed ``texts``; one row per text, in order."""

    def fit_transform(self, texts: Sequence[str], progress: bool = False) -> Features:
        return self.fit(texts).transform(texts, progress=progress)
