"""Simulated active learning: gold labels play the annotator, a test set scores each round.

Simulations compare query strategies before anyone labels real data: the same initial sample,
batch size and budget for every strategy, and a learning curve (accuracy vs. labels) per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from al_core.classifiers.base import Classifier
from al_core.features import Features, num_rows
from al_core.initialization.base import Initializer
from al_core.learner.active_learner import ActiveLearner
from al_core.metrics import accuracy, macro_f1
from al_core.query.base import QueryStrategy


@dataclass
class SimulationRun:
    """One strategy under one seed: a learning curve plus timings.

    Point ``i`` of ``labels``/``accuracy``/``macro_f1`` is measured after initialization
    (``i = 0``) or after query round ``i``. Times are seconds: ``query_seconds`` and
    ``train_seconds`` summed over the run (initial training included), ``wall_seconds`` for
    the whole simulation including evaluation.
    """

    strategy: str
    seed: int
    labels: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    macro_f1: list[float] = field(default_factory=list)
    query_seconds: float = 0.0
    train_seconds: float = 0.0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    reuse_model: bool = False,
) -> SimulationRun:
    """Run ``iterations`` rounds of query ``batch_size`` -> reveal gold -> retrain.

    The pool is ``X_train`` with gold labels ``y_train`` (class indices, or an indicator
    matrix for multi-label); ``initial`` items are chosen by ``initializer`` (which sees
    ``y_train``, so stratified initializers work). The model is scored on the test set after
    initialization and after every round, giving ``iterations + 1`` points, or fewer when the
    pool runs out. ``progress_callback(i)`` is called after round ``i`` (1-based).
    ``num_classes`` defaults to what ``y_train``/``y_test`` show; pass it when the label set
    has classes absent from both. ``name`` overrides the strategy name in the result.
    ``reuse_model`` refits one classifier instance every round (see :class:`ActiveLearner`).
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
        seed=seed,
        reuse_model=reuse_model,
    )
    learner.initialize_with(initializer, initial, y_gold=y_train)
    run.train_seconds += learner.last_train_seconds
    _evaluate(learner, X_test, y_test, run)

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
        _evaluate(learner, X_test, y_test, run)
        if progress_callback is not None:
            progress_callback(round_no)

    run.wall_seconds = time.perf_counter() - start
    return run


def _evaluate(learner: ActiveLearner, X_test: Features, y_test: np.ndarray, run: SimulationRun):
    predictions = np.asarray(learner.classifier.predict(X_test))
    run.labels.append(len(learner.indices_labeled))
    run.accuracy.append(accuracy(y_test, predictions))
    run.macro_f1.append(macro_f1(y_test, predictions))
