"""The stopping-criterion protocol.

After each training the learner (or the pipeline) builds one :class:`StoppingContext` with
:func:`~al_core.stopping.context.build_context` and asks every criterion to
:meth:`~StoppingCriterion.check` it. Criteria that need history (agreement between successive
predictions, a score curve) keep it and expose it as a JSON-serializable ``state_dict``, so a
scheduled pipeline can persist it between runs.

**Iteration.** ``StoppingContext.iteration`` counts the query rounds whose labels the current
model has learned from: 0 for the first model (trained on the initial labels), 1 after the
first queried batch was labelled and the model retrained, and so on. ``MaxIterations(k)``
therefore stops once ``k`` batches have been queried and labelled, in the learner, the
simulation and the pipeline alike.

**Not applicable.** A criterion that cannot judge a context (kappa on a multi-label task, no
stopping set, no evaluation set) returns a decision with ``applicable=False`` and the reason,
rather than raising or being skipped silently; it keeps its history unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: What a criterion may need from the context, and how to say it is missing.
_MISSING = {
    "predictions": "no predictions on a stopping set (the stopping set is empty)",
    "proba": "no predicted probabilities on a stopping set (the stopping set is empty)",
    "eval": "no evaluation scores (no labelled evaluation set)",
}


@dataclass
class StoppingContext:
    """What a criterion may look at after a training.

    ``iteration`` and ``num_labeled`` are always set (see the module docstring for the meaning
    of ``iteration``). ``predictions`` (class indices, or an indicator matrix for multi-label)
    and ``proba`` are the current model's outputs on a fixed stopping set, the same items every
    time; ``unlabeled`` marks the stopping-set rows that have no label yet. ``eval_metrics``
    holds the current model's scores on a labelled evaluation set (``accuracy``, ``macro_f1``,
    ... in ``[0, 1]``), when there is one.
    """

    iteration: int
    num_labeled: int
    predictions: np.ndarray | None = None
    proba: np.ndarray | None = None
    multi_label: bool = False
    unlabeled: np.ndarray | None = None
    eval_metrics: dict[str, float] | None = None

    @property
    def is_multi_label(self) -> bool:
        preds = self.predictions
        return bool(self.multi_label or (preds is not None and np.ndim(preds) == 2))


@dataclass(frozen=True)
class StopDecision:
    """One criterion's verdict: stop or not, the number it compared, and why.

    ``applicable=False`` means the criterion could not judge this iteration (``stop`` is then
    False and ``value`` None); ``kind`` names the three cases.
    """

    stop: bool
    value: float | None
    reason: str
    applicable: bool = True

    @classmethod
    def not_applicable(cls, why: str) -> StopDecision:
        return cls(stop=False, value=None, reason=f"not applicable: {why}", applicable=False)

    @property
    def kind(self) -> str:
        """``"stop"``, ``"continue"`` or ``"not-applicable"``."""
        if not self.applicable:
            return "not-applicable"
        return "stop" if self.stop else "continue"


class StoppingCriterion(ABC):
    """Base class: subclasses implement :meth:`_check`; callers use :meth:`check`.

    ``needs`` lists what the context must hold (``predictions``, ``proba``, ``eval``) and
    ``label_types`` the tasks the criterion supports; :meth:`check` turns a missing need or an
    unsupported task into a not-applicable decision before :meth:`_check` runs.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    label_types: ClassVar[tuple[str, ...]] = ("single", "multi")

    #: The configuration text that built this criterion (set by ``build_criterion``).
    spec: str | None = None

    def check(self, ctx: StoppingContext) -> StopDecision:
        """Record this iteration and say whether to stop now (or that the criterion cannot)."""
        why = self.not_applicable_reason(ctx)
        if why is not None:
            return StopDecision.not_applicable(why)
        return self._check(ctx)

    def not_applicable_reason(self, ctx: StoppingContext) -> str | None:
        """Why this criterion cannot judge ``ctx``, or None when it can."""
        label_type = "multi" if ctx.is_multi_label else "single"
        if label_type not in self.label_types:
            return f"{self.name} supports {'/'.join(self.label_types)}-label tasks only"
        for need in self.needs:
            if need == "predictions" and (ctx.predictions is None or len(ctx.predictions) == 0):
                return _MISSING[need]
            if need == "proba" and (ctx.proba is None or len(ctx.proba) == 0):
                return _MISSING[need]
            if need == "eval" and not ctx.eval_metrics:
                return _MISSING[need]
        return None

    @abstractmethod
    def _check(self, ctx: StoppingContext) -> StopDecision:
        """The decision for an applicable context; may update the criterion's history."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable history; stateless criteria return ``{}``."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027 - stateless default
        """Restore what :meth:`state_dict` returned."""

    @property
    def label(self) -> str:
        """The name to report this criterion under: its configuration text, else its name."""
        return self.spec or self.name
