"""TF-IDF features: a sparse, corpus-fitted embedder (not cacheable).

The vectorizer is fitted on the corpus (usually the whole pool, labelled or not, which is
legitimate for an unsupervised transform) and returns a CSR ``float32`` matrix with
L2-normalised rows. scikit-learn is imported on first use. A fitted embedder saves as JSON
(parameters, vocabulary) plus ``idf.npy`` (:meth:`TfidfEmbedder.save`), so loading it runs no
code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from al_core.classifiers.base import NotFittedError
from al_core.embeddings.base import Embedder


class TfidfEmbedder(Embedder):
    """scikit-learn ``TfidfVectorizer`` with defaults suited to short-text classification."""

    name = "tfidf"
    description = "TF-IDF over word unigrams and bigrams (sparse, fitted on the corpus)"
    cacheable = False
    dense = False

    def __init__(
        self,
        max_features: int | None = 50_000,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        sublinear_tf: bool = True,
        lowercase: bool = True,
        strip_accents: str | None = "unicode",
        stop_words: str | list[str] | None = None,
    ) -> None:
        self.max_features = max_features
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.stop_words = stop_words
        self._vectorizer: Any = None

    def __repr__(self) -> str:
        return (
            f"TfidfEmbedder(max_features={self.max_features}, ngram_range={self.ngram_range}, "
            f"min_df={self.min_df}, sublinear_tf={self.sublinear_tf})"
        )

    @property
    def is_fitted(self) -> bool:
        return self._vectorizer is not None

    @property
    def dimension(self) -> int:
        """Vocabulary size (number of columns of :meth:`transform`); needs :meth:`fit`."""
        return len(self._fitted().vocabulary_)

    @property
    def vocabulary(self) -> list[str]:
        """Feature names in column order; needs :meth:`fit`."""
        return [str(t) for t in self._fitted().get_feature_names_out()]

    def fit(self, texts: Sequence[str]) -> Self:
        self._fit(texts)
        return self

    def _fit(self, texts: Sequence[str]) -> Any:
        """Fit the vectorizer; return the corpus matrix it computed on the way."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = as_text_list(texts)
        if not texts:
            raise ValueError("TfidfEmbedder.fit needs at least one text")
        vectorizer = TfidfVectorizer(
            max_features=self.max_features,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=self.sublinear_tf,
            lowercase=self.lowercase,
            strip_accents=self.strip_accents,
            stop_words=self.stop_words,
            dtype=np.float32,
        )
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError as exc:  # e.g. "empty vocabulary"
            raise ValueError(
                f"TfidfEmbedder could not build a vocabulary from {len(texts)} texts "
                f"(all empty, only stop words, or pruned by min_df/max_df): {exc}"
            ) from exc
        self._vectorizer = vectorizer
        return matrix

    def transform(self, texts: Sequence[str], progress: bool = False) -> Any:
        """CSR ``float32`` matrix of shape ``(len(texts), dimension)``; ``progress`` is ignored
        (vectorizing is fast)."""
        vectorizer = self._fitted()
        texts = as_text_list(texts)
        if not texts:  # scikit-learn refuses zero samples
            import scipy.sparse as sp

            return sp.csr_matrix((0, len(vectorizer.vocabulary_)), dtype=np.float32)
        return vectorizer.transform(texts).tocsr()

    def fit_transform(self, texts: Sequence[str], progress: bool = False) -> Any:
        """Fit on ``texts`` and return their matrix (one vectorizer pass instead of two)."""
        return self._fit(texts).tocsr()

    def save(self, directory: str | Path) -> Path:
        """Save the fitted vectorizer without pickle: ``tfidf.json`` (parameters and the
        vocabulary in column order) and ``idf.npy``."""
        from al_core.classifiers.persistence import save_arrays
        from al_core.storage.atomic import atomic_write_json

        vectorizer = self._fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        terms = [""] * len(vectorizer.vocabulary_)
        for term, column in vectorizer.vocabulary_.items():
            terms[column] = term
        save_arrays(directory, idf=np.asarray(vectorizer.idf_, dtype=np.float64))
        atomic_write_json(
            directory / "tfidf.json",
            {"format": "alflow.tfidf", "params": self._params(), "vocabulary": terms},
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TfidfEmbedder:
        """Rebuild a vectorizer saved by :meth:`save` (JSON and ``.npy``, no pickle)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        from al_core.classifiers.persistence import load_arrays

        directory = Path(directory)
        saved = json.loads((directory / "tfidf.json").read_text(encoding="utf-8"))
        if saved.get("format") != "alflow.tfidf":
            raise ValueError(f"{directory} does not hold a saved TfidfEmbedder")
        params = dict(saved["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        emb = cls(**params)
        (idf,) = load_arrays(directory, "idf")
        vocabulary = {term: i for i, term in enumerate(saved["vocabulary"])}
        vectorizer = TfidfVectorizer(vocabulary=vocabulary, dtype=np.float32, **emb._sk_params())
        vectorizer.idf_ = idf
        emb._vectorizer = vectorizer
        return emb

    def _params(self) -> dict[str, Any]:
        return {
            "max_features": self.max_features,
            "ngram_range": list(self.ngram_range),
            "min_df": self.min_df,
            "max_df": self.max_df,
            "sublinear_tf": self.sublinear_tf,
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "stop_words": self.stop_words,
        }

    def _sk_params(self) -> dict[str, Any]:
        """The options that shape ``transform`` (the rest only matter while fitting)."""
        return {
            "ngram_range": self.ngram_range,
            "sublinear_tf": self.sublinear_tf,
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "stop_words": self.stop_words,
        }

    def _fitted(self) -> Any:
        if self._vectorizer is None:
            raise NotFittedError(
                "TfidfEmbedder is not fitted: call fit(corpus) (or fit_transform) before transform"
            )
        return self._vectorizer


def as_text_list(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, checking that it is a sequence of ``str`` (shared by the embedders)."""
    if isinstance(texts, str):
        raise TypeError("expected a sequence of texts, got a single str")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is {type(t).__name__}, expected str")
    return out
