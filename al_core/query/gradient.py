"""Expected gradient length (EGL) and its word-embedding and single-layer variants.

Settles, Craven & Ray (2008), "Multiple-instance active learning", NIPS; Settles & Craven
(2008), "An analysis of active learning strategies for sequence labeling tasks", EMNLP:
``EGL(x) = sum_c p(c|x) * ||grad_theta L(x, c)||``, the expected norm of the training gradient
if ``x`` were labelled ``c``. Norms come from ``clf.gradient_norms(X, scope)`` (the
``gradients`` capability): ``"all"`` parameters; ``"embedding-max-word"`` for EGL-word (Zhang,
Lease & Wallace (2017), "Active discriminative text representation learning", AAAI), where the
classifier takes the max over the item's tokens per hypothetical label, so the score is
``sum_c p(c|x) max_w ||grad_{e_w} L(x, c)||`` (the paper takes the max outside the sum; the
capability protocol returns one number per label); or a parameter-name prefix (one layer).
"""

from __future__ import annotations

import numpy as np

from al_core.query.base import QueryStrategy
from al_core.query.chunking import (
    DEFAULT_CHUNK_SIZE,
    gradient_norms_chunked,
    predict_proba_chunked,
)


class ExpectedGradientLength(QueryStrategy):
    """EGL over every trainable parameter (Settles, Craven & Ray 2008)."""

    name = "expected-gradient-length"
    description = (
        "EGL: ask items whose expected training-gradient norm (all parameters) is largest."
    )
    needs = ("probabilities", "gradients")

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    @property
    def scope(self) -> str:
        return "all"

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        proba = predict_proba_chunked(clf, X, candidates, self.chunk_size)
        norms = gradient_norms_chunked(clf, X, candidates, self.scope, self.chunk_size)
        if norms.shape != proba.shape:
            raise ValueError(f"gradient_norms returned shape {norms.shape}, expected {proba.shape}")
        return self.score_norms(proba, norms)

    @staticmethod
    def score_norms(proba: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """``sum_c p(c|x) * norm[x, c]``."""
        return np.einsum("ic,ic->i", np.asarray(proba, np.float64), np.asarray(norms, np.float64))


class ExpectedGradientLengthMaxWord(ExpectedGradientLength):
    """EGL-word (Zhang, Lease & Wallace 2017): gradients w.r.t. the item's word embeddings."""

    name = "expected-gradient-length-max-word"
    description = "EGL-word: expected gradient norm of the most affected word embedding."

    @property
    def scope(self) -> str:
        return "embedding-max-word"


class ExpectedGradientLengthLayer(ExpectedGradientLength):
    """EGL restricted to the parameters whose names start with ``layer`` (one layer)."""

    name = "expected-gradient-length-layer"
    description = "EGL over one layer's parameters (a parameter-name prefix, default 'classifier')."

    def __init__(self, layer: str = "classifier", chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__(chunk_size)
        if not layer or layer in ("all", "embedding-max-word"):
            raise ValueError(f"layer must be a parameter-name prefix, got {layer!r}")
        self.layer = layer

    @property
    def scope(self) -> str:
        return self.layer
