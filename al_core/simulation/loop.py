"""Simulated active learning: gold labels play the annotator, a test set scores each round.

Simulations compare query strategies before anyone labels real data: the same initial sample,
batch size and budget for every strategy, and a learning curve (accuracy vs. labels) per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from al_core.classifiers.base import Classifier
from al_core.features import Features, num_rows
from al_core.initialization.base import Initializer
from al_core.learner.active_learner import ActiveLearner
from al_core.metrics import scores
from al_core.query.base import QueryStrategy
from al_core.stopping import build_criteria


@dataclass
class SimulationRun:
    """One strategy under one seed: a learning curve, stopping points and timings.

    Point ``i`` of ``labels``/``accuracy``/``macro_f1``/``micro_f1`` is measured after
    initialization (``i = 0``) or after query round ``i``; ``i`` is also the stopping
    context's ``iteration`` there. ``stopping`` maps each criterion's text to ``point`` (the
    first point where it said stop, None if never), ``reason`` (its reason there, else its
    last reason) and ``applicable`` (whether it could judge at least once). Times are
    seconds: ``query_seconds`` and ``train_seconds`` summed over the run (initial training
    included), ``wall_seconds`` for the whole simulation including evaluation.
    """

    strategy: str
    seed: int
    labels: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    macro_f1: list[float] = field(default_factory=list)
    query_seconds: float = 0.0
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    micro_f1: list[float] = field(default_factory=list)
    stopping: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulationRun:
        return cls(**data)


def strategy_name(strategy: Any) -> str:
    """The registry name of ``strategy`` when it has one, else its class name."""
    return str(getattr(strategy, "name", None) or type(strategy).__name__)


def simulate(
    X_train: Features,
    y_train: np.ndarray,
    X_test: Features,
    y_test: np.ndarray,
    *,
    classifier_factory: Callable[[], Classifier],
    strategy: QueryStrategy,
    initializer: Initializer,
    initial: int,
    batch_size: int,
    iterations: int,
    seed: int,
    progress_callback: Callable[[int], None] | None = None,
    num_classes: int | None = None,
    name: str | None = None,
    stopping: Sequence[str] = (),
    stopping_indices: np.ndarray | None = None,
    reuse_model: bool | None = None,
) -> SimulationRun:
    """Run ``iterations`` rounds of query ``batch_size`` -> reveal gold -> retrain.

    The pool is ``X_train`` with gold labels ``y_train`` (class indices, or an indicator
    matrix for multi-label); ``initial`` items are chosen by ``initializer`` (which sees
    ``y_train``, so stratified initializers work). The model is scored on the test set after
    initialization and after every round, giving ``iterations + 1`` points, or fewer when the
    pool runs out. ``progress_callback(i)`` is called after round ``i`` (1-based).
    ``num_classes`` defaults to what ``y_train``/``y_test`` show; pass it when the label set
    has classes absent from both. ``name`` overrides the strategy name in the result.

    ``stopping`` lists criteria as text (:mod:`al_core.stopping.spec`); each is checked at
    every point, on the pool rows ``stopping_indices`` (default: the whole pool) and with the
    test scores as evaluation scores, and the run records where each first said stop. The run
    always goes on to the full budget, so the cost of stopping early can be measured.
    ``reuse_model`` refits one classifier instance every round (see :class:`ActiveLearner`;
    None: when the classifier wants it, as in the pipeline).
    """
    if initial < 1:
        raise ValueError(f"initial must be >= 1, got {initial}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    if len(y_train) != num_rows(X_train):
        raise ValueError(f"y_train has {len(y_train)} rows, X_train has {num_rows(X_train)}")
    if len(y_test) != num_rows(X_test):
        raise ValueError(f"y_test has {len(y_test)} rows, X_test has {num_rows(X_test)}")
    multi_label = y_train.ndim == 2
    if num_classes is None:
        if multi_label:
            num_classes = int(y_train.shape[1])
        else:
            num_classes = max(2, int(max(y_train.max(), y_test.max(initial=0))) + 1)

    start = time.perf_counter()
    run = SimulationRun(strategy=name or strategy_name(strategy), seed=int(seed))
    learner = ActiveLearner(
        classifier_factory,
        strategy,
        X_train,
        num_classes=num_classes,
        multi_label=multi_label,
        stopping=build_criteria(list(stopping), num_classes=num_classes) if stopping else (),
        seed=seed,
        reuse_model=reuse_model,
    )
    learner.initialize_with(initializer, initial, y_gold=y_train)
    run.train_seconds += learner.last_train_seconds
    _evaluate(learner, X_test, y_test, run, stopping_indices)

    for round_no in range(1, iterations + 1):
        if len(learner.indices_unlabeled) == 0:
            break
        t0 = time.perf_counter()
        result = learner.query(batch_size)
        run.query_seconds += time.perf_counter() - t0
        if len(result.indices) == 0:
            break
        learner.update(y_train[result.indices])
        run.train_seconds += learner.last_train_seconds
        _evaluate(learner, X_test, y_test, run, stopping_indices)
        if progress_callback is not None:
            progress_callback(round_no)

    run.wall_seconds = time.perf_counter() - start
    return run


def _evaluate(
    learner: ActiveLearner,
    X_test: Features,
    y_test: np.ndarray,
    run: SimulationRun,
    stopping_indices: np.ndarray | None,
) -> None:
    """Score the current model on the test set, then let every criterion judge this point."""
    predictions = np.asarray(learner.classifier.predict(X_test))
    point = scores(y_test, predictions, learner.num_classes)
    run.labels.append(len(learner.indices_labeled))
    run.accuracy.append(point["accuracy"])
    run.macro_f1.append(point["macro_f1"])
    run.micro_f1.append(point["micro_f1"])
    decisions = learner.check_stop(stopping_indices, eval_metrics=point)
    for criterion, decision in zip(learner.stopping, decisions, strict=True):
        entry = run.stopping.setdefault(
            criterion.label, {"point": None, "reason": None, "applicable": False}
        )
        entry["applicable"] = entry["applicable"] or decision.applicable
        if entry["point"] is None:
            entry["reason"] = decision.reason
            if decision.stop:
                entry["point"] = len(run.labels) - 1
