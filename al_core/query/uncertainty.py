"""Uncertainty sampling: query the items the current model is least sure about.

All three strategies turn the class-probability matrix of the candidates into one score per
row. :class:`ProbabilityScoreStrategy` does the shared work (chunked ``predict_proba``, shape
checks), so a concrete strategy only defines the vectorized :meth:`score_proba`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from al_core.features import Features
from al_core.query.base import QueryStrategy
from al_core.query.chunking import DEFAULT_CHUNK_SIZE, predict_proba_chunked


class ProbabilityScoreStrategy(QueryStrategy):
    """Base for strategies whose score is a function of each candidate's probability row.

    ``chunk_size`` bounds how many candidates go to ``predict_proba`` at once.
    """

    needs = ("probabilities",)
    label_types = ("single",)

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    def score(
        self,
        clf: Any,
        X: Features,
        candidates: np.ndarray,
        indices_labeled: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        return self.score_proba(predict_proba_chunked(clf, X, candidates, self.chunk_size))

    @staticmethod
    @abstractmethod
    def score_proba(proba: np.ndarray) -> np.ndarray:
        """One score per row of ``proba`` (shape ``(n, num_classes)``); higher = query first."""


class LeastConfidence(ProbabilityScoreStrategy):
    """Score ``1 - max_c p(c | x)``: the less probable the predicted class, the higher.

    Lewis & Gale (1994), "A sequential algorithm for training text classifiers", SIGIR;
    Culotta & McCallum (2005), "Reducing labeling effort for structured prediction tasks", AAAI.
    """

    name = "least-confidence"
    description = "Query items whose most probable class has the lowest probability."

    @staticmethod
    def score_proba(proba: np.ndarray) -> np.ndarray:
        return 1.0 - proba.max(axis=1)


class PredictionEntropy(ProbabilityScoreStrategy):
    """Score the Shannon entropy ``-sum_c p(c | x) log p(c | x)`` in nats, with ``0 log 0 = 0``.

    Roy & McCallum (2001), "Toward optimal active learning through sampling estimation of error
    reduction", ICML; Settles (2009), "Active Learning Literature Survey", UW-Madison TR 1648.
    """

    name = "prediction-entropy"
    description = "Query items whose predicted class distribution has the highest entropy."

    @staticmethod
    def score_proba(proba: np.ndarray) -> np.ndarray:
        p = np.clip(proba, 0.0, 1.0)
        positive = p > 0.0
        # log(1) = 0 where p == 0, so those terms vanish without evaluating log(0).
        plogp = p * np.log(np.where(positive, p, 1.0))
        return -plogp.sum(axis=1)


class BreakingTies(ProbabilityScoreStrategy):
    """Score ``-(p_top1 - p_top2)``: the smaller the margin of the two best classes, the higher.

    Also known as margin sampling. Scheffer, Decomain & Wrobel (2001), "Active hidden Markov
    models for information extraction", IDA; Luo et al. (2005), "Active learning to recognize
    multiple types of plankton", JMLR.
    """

    name = "breaking-ties"
    description = "Query items with the smallest margin between the two most probable classes."

    @staticmethod
    def score_proba(proba: np.ndarray) -> np.ndarray:
        if proba.shape[1] < 2:
            # A single column has no runner-up: the margin is the top probability itself.
            return -proba[:, 0]
        top2 = np.partition(proba, -2, axis=1)[:, -2:]
        return -(top2[:, 1] - top2[:, 0])
