"""Multi-label strategies: label cardinality inconsistency, adaptive (Li & Guo), and CVIRS.

``y`` is the indicator matrix of the labelled items and ``predict_proba`` gives one
independent probability per label (see :mod:`al_core.labels`); a label is predicted when its
probability is at least ``threshold`` (0.5, as ``Classifier.predict`` does).
"""

from __future__ import annotations

import copy

import numpy as np

from al_core.query.base import QueryStrategy, top_n
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, predict_proba_chunked


class _MultiLabelProba(QueryStrategy):
    needs = ("probabilities",)
    label_types = ("multi",)

    def __init__(self, threshold: float = 0.5, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        self.threshold = float(threshold)
        self.chunk_size = int(chunk_size)

    def proba(self, clf, X, rows) -> np.ndarray:
        return predict_proba_chunked(clf, X, rows, self.chunk_size).astype(np.float64)


def cardinality_inconsistency(predicted: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``|#predicted labels(x) - mean #labels of the labelled items|`` (Li & Guo 2013)."""
    mean_card = float(np.asarray(y).sum(axis=1).mean()) if len(y) else 0.0
    return np.abs(predicted.sum(axis=1) - mean_card)


class LabelCardinalityInconsistency(_MultiLabelProba):
    """Ask items whose number of predicted labels differs most from the labelled average.

    Li & Guo (2013), "Active learning with multi-label SVM classification", IJCAI:
    ``c(x) = || sum_j 1[yhat_j(x) = 1] - (1/|L|) sum_{l in L} sum_j y_lj ||``.
    """

    name = "label-cardinality-inconsistency"
    description = "Ask items whose predicted label count differs most from the labelled average."

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        predicted = self.proba(clf, X, candidates) >= self.threshold
        return cardinality_inconsistency(predicted, y)


def max_margin_uncertainty(proba: np.ndarray, threshold: float, eps: float = 1e-6) -> np.ndarray:
    """``1 / separation margin`` (Li & Guo 2013) with decision values ``f = p - threshold``.

    The margin is the smallest positive decision value minus the largest negative one; a side
    with no label counts as the threshold itself (0), so the margin is never negative.
    """
    f = proba - threshold
    pos = np.where(f >= 0, f, np.inf).min(axis=1)
    neg = np.where(f < 0, f, -np.inf).max(axis=1)
    margin = np.where(np.isfinite(pos), pos, 0.0) - np.where(np.isfinite(neg), neg, 0.0)
    return 1.0 / (margin + eps)


class AdaptiveActiveLearning(_MultiLabelProba):
    """Combine max-margin uncertainty and label cardinality inconsistency, weighting chosen per query.

    Li & Guo (2013), "Active learning with multi-label SVM classification", IJCAI:
    ``q_beta(x) = u(x)^beta * c(x)^(1 - beta)`` with ``u`` the max-margin prediction
    uncertainty and ``c`` the label cardinality inconsistency. For each ``beta`` in ``betas``
    the top-``n`` batch is taken; each distinct batch is added to the labelled data with its
    predicted labels, a copy of the classifier is retrained, and the batch whose retrained model
    makes the fewest errors (Hamming loss) on the labelled data wins (our reading of the paper's
    adaptive choice of ``beta``). Needs a classifier with ``fit``.
    """

    name = "adaptive-active-learning"
    description = "Li & Guo's adaptive mix of max-margin uncertainty and cardinality inconsistency."

    def __init__(
        self,
        betas: tuple[float, ...] = tuple(i / 10 for i in range(11)),
        threshold: float = 0.5,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(threshold, chunk_size)
        if not betas or any(not 0.0 <= b <= 1.0 for b in betas):
            raise ValueError("betas must be a non-empty sequence of values in [0, 1]")
        self.betas = tuple(float(b) for b in betas)

    batch_aware = True

    def select(self, clf, X, candidates, indices_labeled, y, n, rng):
        from al_core.features import take_rows

        proba = self.proba(clf, X, candidates)
        predicted = (proba >= self.threshold).astype(np.int8)
        u = max_margin_uncertainty(proba, self.threshold)
        c = cardinality_inconsistency(predicted, y) + 1e-6
        log_u, log_c = np.log(u), np.log(c)
        tie_seed = int(rng.integers(2**31 - 1))
        batches: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
        for beta in self.betas:
            q = beta * log_u + (1.0 - beta) * log_c  # log q_beta: same order, no overflow
            picks = top_n(q, n, np.random.default_rng(tie_seed))
            batches.setdefault(tuple(sorted(picks.tolist())), (picks, np.exp(q[picks])))
        if (
            len(batches) == 1
            or len(indices_labeled) == 0
            or not callable(getattr(clf, "fit", None))
        ):
            return next(iter(batches.values()))
        X_lab, y_lab = take_rows(X, indices_labeled), np.asarray(y)
        best, best_loss = None, np.inf
        for picks, scores in batches.values():
            rows = np.concatenate([indices_labeled, candidates[picks]])
            model = copy.deepcopy(clf).fit(take_rows(X, rows), np.vstack([y_lab, predicted[picks]]))
            loss = float(((model.predict_proba(X_lab) >= self.threshold) != y_lab).mean())
            if loss < best_loss:
                best, best_loss = (picks, scores), loss
        return best


class CategoryVectorInconsistencyAndRanking(_MultiLabelProba):
    """CVIRS: uncertainty by rank aggregation times category-vector inconsistency.

    Reyes, Morell & Ventura (2018), "Effective active learning strategy for multi-label
    learning", Neurocomputing 273. Per label ``j`` the candidates are ranked by the margin
    ``|p_j - (1 - p_j)|`` (smallest margin = most uncertain = rank 1); the Borda-style score is
    ``s(x) = sum_j (N - rank_j(x)) / (q (N - 1))`` for ``N`` candidates and ``q`` labels. The
    inconsistency is the mean distance of the predicted label vector to the labelled vectors,
    ``v(x) = 1/|L| sum_l d(yhat(x), y_l)``, with ``d = 1`` when the vectors differ everywhere
    (normalised Hamming distance 1) and otherwise the normalised entropy distance
    ``(2 H(a, b) - H(a) - H(b)) / H(a, b)`` (base 2) of the two binary vectors, where
    ``H(a, b)`` is the entropy of their 2x2 contingency table over labels. Score ``s(x) v(x)``.
    Distances are computed once per distinct predicted and labelled vector.
    """

    name = "category-vector-inconsistency-and-ranking"
    description = "CVIRS: per-label margin rank aggregation times label-vector inconsistency."

    def score(self, clf, X, candidates, indices_labeled, y, rng):
        proba = self.proba(clf, X, candidates)
        predicted = (proba >= self.threshold).astype(np.int8)
        return rank_aggregation(proba) * vector_inconsistency(predicted, np.asarray(y))


def rank_aggregation(proba: np.ndarray) -> np.ndarray:
    """CVIRS's uncertainty: Borda aggregation of per-label margin ranks, in [0, 1]."""
    n, q = proba.shape
    if n == 1:
        return np.ones(1)
    margin = np.abs(2.0 * proba - 1.0)
    ranks = np.empty_like(margin, dtype=np.int64)
    order = np.argsort(margin, axis=0, kind="stable")
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[:, None].repeat(q, axis=1), axis=0)
    return (n - ranks).sum(axis=1) / (q * (n - 1))


def _h(counts: np.ndarray, total: int) -> np.ndarray:
    """``-(c/total) log2(c/total)`` elementwise, with ``0 log 0 = 0``."""
    p = counts / total
    return -p * np.log2(np.where(p > 0, p, 1.0))


def entropy_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CVIRS distance between every row of ``a`` (m, q) and of ``b`` (k, q): an (m, k) matrix."""
    q = a.shape[1]
    a, b = a.astype(np.int64), b.astype(np.int64)
    n11 = a @ b.T
    n10 = a @ (1 - b).T
    n01 = (1 - a) @ b.T
    n00 = q - n11 - n10 - n01
    joint = _h(n11, q) + _h(n10, q) + _h(n01, q) + _h(n00, q)
    ones_a, ones_b = a.sum(axis=1)[:, None], b.sum(axis=1)[None, :]
    h_a = _h(ones_a, q) + _h(q - ones_a, q)
    h_b = _h(ones_b, q) + _h(q - ones_b, q)
    safe = np.where(joint > 0, joint, 1.0)
    dist = np.where(joint > 0, (2.0 * joint - h_a - h_b) / safe, 0.0)
    return np.where(n10 + n01 == q, 1.0, dist)


def vector_inconsistency(predicted: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean CVIRS distance of each predicted vector to the labelled vectors (0 if none)."""
    if len(y) == 0:
        return np.ones(len(predicted))
    pred_u, pred_inv = np.unique(predicted, axis=0, return_inverse=True)
    lab_u, lab_counts = np.unique(y, axis=0, return_counts=True)
    mean = entropy_distance(pred_u, lab_u) @ lab_counts / lab_counts.sum()
    return mean[np.asarray(pred_inv).reshape(-1)]
