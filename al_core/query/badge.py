"""BADGE: k-means++ seeding in the space of hypothetical last-layer gradients.

Ash, Zhang, Krishnamurthy, Langford & Agarwal (2020), "Deep batch active learning by diverse,
uncertain gradient lower bounds", ICLR. For candidate ``x`` with last-layer input ``h(x)`` (here
``clf.embed(x)``) and predicted distribution ``p(x)``, the gradient of the cross-entropy loss
w.r.t. the last layer's weights under the hypothetical label ``yhat = argmax p(x)`` is
``g(x) = (p(x) - onehot(yhat)) outer h(x)`` (``C * d`` numbers). BADGE picks the batch by
k-means++ seeding on the ``g``: first the largest ``||g||`` (as the authors' code does), then
each next item with probability proportional to ``D^2``, its squared distance to the nearest
item picked so far.

The ``C * d`` vectors are never built: with ``a = p - onehot(yhat)``,
``||g_i - g_j||^2 = ||a_i||^2 ||h_i||^2 + ||a_j||^2 ||h_j||^2 - 2 (a_i . a_j)(h_i . h_j)``,
so each seeding step costs ``O(N (C + d))`` and memory stays ``O(N (C + d))``.
"""

from __future__ import annotations

import numpy as np

from al_core.query.base import QueryStrategy
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, embed_chunked, predict_proba_chunked


class GradientEmbeddingSpace:
    """Squared norms and distances of BADGE gradient embeddings from ``proba`` and ``h``."""

    def __init__(self, proba: np.ndarray, h: np.ndarray) -> None:
        proba = np.asarray(proba, dtype=np.float64)
        self.a = proba.copy()
        self.a[np.arange(len(proba)), proba.argmax(axis=1)] -= 1.0  # p - onehot(argmax p)
        self.h = np.ascontiguousarray(h, dtype=np.float32)
        self.h_sq = np.einsum("ij,ij->i", self.h, self.h, dtype=np.float64)
        self.sq_norms = np.einsum("ij,ij->i", self.a, self.a) * self.h_sq

    def sq_dist_to(self, j: int) -> np.ndarray:
        """``||g_i - g_j||^2`` for every ``i``."""
        cross = (self.a @ self.a[j]) * (self.h @ self.h[j]).astype(np.float64)
        return np.maximum(self.sq_norms + self.sq_norms[j] - 2.0 * cross, 0.0)


class BADGE(QueryStrategy):
    """BADGE (Ash et al. 2020): diverse and uncertain via k-means++ on gradient embeddings.

    Works with any classifier that has ``predict_proba`` and ``embed`` (for ``embedding-logreg``,
    ``embed`` returns the features the logistic regression reads, i.e. its last-layer input).
    Scores are ``D^2`` at the time of each pick (``||g||^2`` for the first).
    """

    name = "badge"
    description = "BADGE: k-means++ seeding on hypothetical last-layer gradient embeddings."
    needs = ("probabilities", "embeddings")
    batch_aware = True

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        space = GradientEmbeddingSpace(
            predict_proba_chunked(clf, X, candidates, self.chunk_size),
            embed_chunked(clf, X, candidates, self.chunk_size),
        )
        return kmeans_pp_seeding(space, n, rng)


def kmeans_pp_seeding(
    space: GradientEmbeddingSpace, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct seeds: largest norm first, then ``D^2`` sampling (uniform if all are 0)."""
    norms = space.sq_norms
    first = int(rng.choice(np.flatnonzero(norms == norms.max())))
    picks, scores = [first], [float(norms[first])]
    d2 = space.sq_dist_to(first)
    d2[first] = 0.0
    taken = np.zeros(len(norms), dtype=bool)
    taken[first] = True
    while len(picks) < n:
        total = d2.sum()
        if total > 0:
            pick = int(rng.choice(len(d2), p=d2 / total))
        else:  # every remaining item coincides with a pick: any of them
            pick = int(rng.choice(np.flatnonzero(~taken)))
        picks.append(pick)
        scores.append(float(d2[pick]))
        taken[pick] = True
        np.minimum(d2, space.sq_dist_to(pick), out=d2)
        d2[taken] = 0.0
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)
