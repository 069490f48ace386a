from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al_core.classifiers import NotFittedError
from al_core.embeddings import REGISTRY, SentenceEmbedder, TfidfEmbedder

CORPUS = [
    "New York stocks rallied on Monday",
    "The cat chased the mouse around New York",
    "Stocks fell as investors worried",
    "A kitten slept on the warm sofa",
]


def test_registry_and_flags():
    assert REGISTRY == {"tfidf": TfidfEmbedder, "minilm": SentenceEmbedder}
    assert TfidfEmbedder.cacheable is False and TfidfEmbedder.dense is False
    assert SentenceEmbedder.cacheable is True and SentenceEmbedder.dense is True


def test_fit_transform_gives_normalised_csr_rows():
    emb = TfidfEmbedder()
    X = emb.fit(CORPUS).transform(CORPUS)
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float32
    assert X.shape == (4, emb.dimension)
    np.testing.assert_allclose(sp.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    assert "new york" in emb.vocabulary  # bigrams are on by default
    assert "stocks" in emb.vocabulary
    np.testing.assert_allclose(emb.fit_transform(CORPUS).toarray(), X.toarray(), rtol=1e-6)


def test_unseen_words_give_an_empty_row_and_order_is_kept():
    emb = TfidfEmbedder().fit(CORPUS)
    X = emb.transform(["completely unrelated vocabulary", CORPUS[2]])
    assert X[0].nnz == 0
    np.testing.assert_allclose(X[1].toarray(), emb.transform([CORPUS[2]]).toarray())
    assert emb.transform([]).shape == (0, emb.dimension)


def test_hyperparameters_are_applied():
    emb = TfidfEmbedder(max_features=5, ngram_range=(1, 1))
    emb.fit(CORPUS)
    assert emb.dimension == 5
    assert all(" " not in term for term in emb.vocabulary)


def test_errors():
    with pytest.raises(NotFittedError, match="fit"):
        TfidfEmbedder().transform(CORPUS)
    with pytest.raises(ValueError, match="at least one text"):
        TfidfEmbedder().fit([])
    with pytest.raises(ValueError, match="vocabulary"):
        TfidfEmbedder().fit(["", "  "])
    with pytest.raises(TypeError, match="single str"):
        TfidfEmbedder().fit("just one string")
    with pytest.raises(TypeError, match="expected str"):
        TfidfEmbedder().fit(["ok", 3])
