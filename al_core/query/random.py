"""Random sampling: the baseline every other query strategy is compared against."""

from __future__ import annotations

from typing import Any

import numpy as np

from al_core.features import Features
from al_core.query.base import QueryStrategy


class RandomSampling(QueryStrategy):
    """Score every candidate with an independent uniform draw under the query seed.

    It needs nothing from the classifier, so it works before any model exists and for both
    single- and multi-label tasks.
    """

    name = "random"
    description = "Uniformly random selection from the unlabelled pool (baseline)."
    needs = ()
    label_types = ("single", "multi")

    def score(
        self,
        clf: Any,
        X: Features,
        candidates: np.ndarray,
        indices_labeled: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        return rng.random(len(candidates))
