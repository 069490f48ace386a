"""``label-spreading``: a semi-supervised embedding head that also learns from the unlabelled pool.

Label spreading (Zhou et al. 2004, "Learning with Local and Global Consistency", NIPS) over a
k-nearest-neighbour graph of the frozen embeddings of every pool item, labelled or not:

* ``W``: each item's ``n_neighbors`` most cosine-similar items (weights ``max(cos, 0)``),
  symmetrised; ``S = D^-1/2 W D^-1/2``;
* ``Y``: the labelled items' one-hot rows, each class column scaled to unit mass so a frequent
  class does not flood the graph (class mass normalisation, Zhu et al. 2003); zero rows for the
  unlabelled items;
* ``F <- alpha S F + (1 - alpha) Y`` for ``n_iter`` steps (converges to
  ``(1 - alpha)(I - alpha S)^-1 Y``).

Each unlabelled item then gets the pseudo-label ``argmax F`` with a confidence (its share of
the row's mass); a logistic regression is trained on the labelled items (weight 1) plus the
unlabelled ones weighted ``pseudo_weight * confidence`` (self-training with the graph's labels).
Predictions for any item come from that regression, so the model is inductive and small.
Multi-label: each label is spread as two columns (label on / off) and thresholded at 0.5.

The graph is built in chunks (``chunk_rows`` x pool similarities at a time, never the full
``n x n``), and it is recomputed at every fit from the unlabelled items the caller passes:
``fit(X, y, unlabeled=X_pool_without_labels)`` (the learner and the pipeline pass them because
``uses_unlabeled`` is true). Without ``unlabeled`` it is plain ``embedding-logreg``.

**Not in the registry** (so not offered by ``alflow list classifiers``): measured with
``benchmarks/semi_supervised_check.py`` on MiniLM vectors, it never beat ``embedding-logreg``
at 50-525 labels: on TREC-6 it lost at every size (0.786 vs 0.776 at 300 labels with the
best ``pseudo_weight``; a kNN in MiniLM space finds topical, not question-type, neighbours),
on MR it tied within 0.003 from 200 labels and lost below. It stays a library class for
pools where the embedding's neighbourhoods do follow the labels.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from al_core.classifiers.embedding_head import EmbeddingLogRegClassifier
from al_core.classifiers.linear import _Constant, check_targets
from al_core.features import Features


def knn_graph(Z: np.ndarray, n_neighbors: int, chunk_rows: int = 1024) -> Any:
    """Symmetric sparse kNN graph of the rows of ``Z`` (L2-normalised) with weights
    ``max(cos, 0)``; no self loops. Computed ``chunk_rows`` rows at a time."""
    import scipy.sparse as sp

    n = Z.shape[0]
    k = int(min(n_neighbors, n - 1))
    if k < 1:
        return sp.csr_matrix((n, n), dtype=np.float64)
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk_rows):
        block = Z[start : start + chunk_rows] @ Z.T
        idx = np.arange(start, start + len(block))
        block[np.arange(len(block)), idx] = -np.inf  # no self loops
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(idx, k))
        cols.append(top.ravel())
        vals.append(np.take_along_axis(block, top, axis=1).ravel())
    W = sp.csr_matrix(
        (np.clip(np.concatenate(vals), 0.0, None), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, n),
    )
    return W.maximum(W.T).tocsr()


def spread_labels(W: Any, Y: np.ndarray, alpha: float, n_iter: int) -> np.ndarray:
    """Zhou et al.'s iteration ``F <- alpha S F + (1 - alpha) Y`` with ``S = D^-1/2 W D^-1/2``."""
    import scipy.sparse as sp

    degree = np.asarray(W.sum(axis=1)).ravel()
    inv_sqrt = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
    S = sp.diags(inv_sqrt) @ W @ sp.diags(inv_sqrt)
    F = Y.copy()
    for _ in range(n_iter):
        F = alpha * (S @ F) + (1.0 - alpha) * Y
    return F


class LabelSpreadingClassifier(EmbeddingLogRegClassifier):
    """Logistic regression on frozen embeddings, trained on labels plus graph pseudo-labels."""

    name = "label-spreading"
    description = (
        "Semi-supervised head: label spreading over the pool's MiniLM kNN graph, then "
        "logistic regression on labels + weighted pseudo-labels"
    )
    supports_multi_label = True
    default_embedder = "minilm"
    uses_unlabeled: ClassVar[bool] = True

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        n_neighbors: int = 10,
        alpha: float = 0.9,
        n_iter: int = 30,
        pseudo_weight: float = 0.03,
        C: float = 3.0,
        max_iter: int = 1000,
        class_weight: str | dict[int, float] | None = None,
    ) -> None:
        super().__init__(
            num_classes,
            multi_label=multi_label,
            seed=seed,
            C=C,
            max_iter=max_iter,
            class_weight=class_weight,
        )
        if n_neighbors < 1 or n_iter < 1:
            raise ValueError("n_neighbors and n_iter must be >= 1")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        if pseudo_weight < 0:
            raise ValueError(f"pseudo_weight must be >= 0, got {pseudo_weight}")
        self.n_neighbors = int(n_neighbors)
        self.alpha = float(alpha)
        self.n_iter = int(n_iter)
        self.pseudo_weight = float(pseudo_weight)
        self.spread_info_: dict[str, Any] = {}

    def fit(self, X: Features, y: np.ndarray, unlabeled: Features | None = None) -> Self:
        X = self._prepare(X)
        y = check_targets(y, self.num_classes, self.multi_label, X.shape[0])
        U = None if unlabeled is None else self._prepare(unlabeled)
        if U is None or U.shape[0] == 0 or self.pseudo_weight == 0:
            self.spread_info_ = {"unlabeled": 0}
            return super().fit(X, y)
        Z = np.vstack([X, U]).astype(np.float64)
        Z /= np.linalg.norm(Z, axis=1, keepdims=True).clip(1e-12)
        W = knn_graph(Z, self.n_neighbors)
        n_lab = X.shape[0]
        if self.multi_label:
            self._fit_multi(X, y, U, W, n_lab)
        else:
            self._fit_single(X, y, U, W, n_lab)
        return self

    def _fit_single(self, X, y, U, W, n_lab) -> None:
        present = np.unique(y)
        self.classes_ = present
        if present.size == 1:
            self._estimators = [_Constant(present[0])]
            self.spread_info_ = {"unlabeled": int(U.shape[0]), "note": "one class"}
            return
        Y = np.zeros((W.shape[0], self.num_classes))
        Y[np.arange(n_lab), y] = 1.0
        Y[:n_lab] /= Y[:n_lab].sum(axis=0).clip(1.0)  # class mass normalisation
        F = spread_labels(W, Y, self.alpha, self.n_iter)[n_lab:]
        mass = F.sum(axis=1)
        reached = mass > 0
        pseudo = F.argmax(axis=1)
        confidence = np.where(reached, F.max(axis=1) / np.where(reached, mass, 1.0), 0.0)
        weights = np.concatenate([np.ones(n_lab), self.pseudo_weight * confidence])
        keep = np.concatenate([np.ones(n_lab, dtype=bool), reached])
        X_all = np.vstack([X, U])[keep]
        y_all = np.concatenate([y, pseudo])[keep]
        model = self._make_logreg().fit(X_all, y_all, sample_weight=weights[keep])
        self._estimators = [model]
        self.spread_info_ = {
            "unlabeled": int(U.shape[0]),
            "reached": int(reached.sum()),
            "mean_confidence": round(float(confidence[reached].mean()) if reached.any() else 0, 4),
        }

    def _fit_multi(self, X, y, U, W, n_lab) -> None:
        self.classes_ = None
        n = W.shape[0]
        Y = np.zeros((n, 2 * self.num_classes))
        Y[:n_lab, : self.num_classes] = y
        Y[:n_lab, self.num_classes :] = 1 - y
        Y[:n_lab] /= Y[:n_lab].sum(axis=0).clip(1.0)
        F = spread_labels(W, Y, self.alpha, self.n_iter)[n_lab:]
        on, off = F[:, : self.num_classes], F[:, self.num_classes :]
        total = on + off
        proba = np.where(total > 0, on / np.where(total > 0, total, 1.0), 0.5)
        X_all = np.vstack([X, U])
        estimators: list[Any] = []
        for j in range(self.num_classes):
            values = np.unique(y[:, j])
            if values.size == 1:
                estimators.append(_Constant(values[0]))
                continue
            pseudo = (proba[:, j] >= 0.5).astype(np.int64)
            conf = np.abs(2 * proba[:, j] - 1)
            weights = np.concatenate([np.ones(n_lab), self.pseudo_weight * conf])
            target = np.concatenate([y[:, j].astype(np.int64), pseudo])
            estimators.append(self._make_logreg().fit(X_all, target, sample_weight=weights))
        self._estimators = estimators
        self.spread_info_ = {"unlabeled": int(U.shape[0])}
