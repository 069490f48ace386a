"""The stopping-criterion protocol.

Each iteration the learner (or the pipeline) builds a :class:`StoppingContext` and asks every
criterion to :meth:`~StoppingCriterion.check` it. Criteria that need history (e.g. agreement
between successive predictions) keep it, and expose it as a JSON-serializable
``state_dict`` so a scheduled pipeline can persist it between runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass
class StoppingContext:
    """What a criterion may look at after training in iteration ``iteration`` (1-based).

    ``predictions``/``proba`` are the current model's outputs on a fixed stopping set (the
    same items every iteration), when the caller has one.
    """

    iteration: int
    num_labeled: int
    predictions: np.ndarray | None = None
    proba: np.ndarray | None = None


@dataclass(frozen=True)
class StopDecision:
    stop: bool
    value: float | None
    reason: str


class StoppingCriterion(ABC):
    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def check(self, ctx: StoppingContext) -> StopDecision:
        """Record this iteration and say whether to stop now."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable history; stateless criteria return ``{}``."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - stateless default
        """Restore what :meth:`state_dict` returned."""
