"""The stopping step: each configured criterion's decision, with its state for the next run.

The context is built as in the in-memory learner (:func:`al_core.stopping.build_context`):
``iteration`` is the number of trainings recorded before this one (0 for the first model, so
``max-iterations`` counts query rounds), predictions come from the current model on the fixed
stopping set, and the evaluation scores are computed only when a criterion needs them. A
criterion that cannot judge (kappa on a multi-label workspace, an empty stopping set, no
evaluation set) yields a row with ``applicable = false`` and the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from al_core.errors import ConfigError
from al_core.pipeline.model import evaluate_model, load_model
from al_core.pipeline.state import items_by_id, labelled_items, loop_state, stopping_set
from al_core.registry import make_stopping
from al_core.stopping import StoppingCriterion, build_context, criteria_needs, split_specs
from al_core.storage import ActiveLearningSettings, Workspace


def make_criteria(
    settings: ActiveLearningSettings, num_classes: int
) -> dict[str, StoppingCriterion]:
    """Fresh criteria for ``settings.stopping``, keyed by their canonical text."""
    criteria: dict[str, StoppingCriterion] = {}
    for spec in split_specs(settings.stopping):
        criterion = make_stopping(
            spec,
            num_classes=num_classes,
            max_iterations=settings.max_iterations,
            kappa=settings.kappa,
            params=settings.stopping_params,
        )
        if criterion.label in criteria:
            raise ConfigError(f"stopping criterion {criterion.label!r} is given twice")
        criteria[criterion.label] = criterion
    return criteria


def check_stopping(
    ws: Workspace, iteration: int, model_path: str | Path, settings: ActiveLearningSettings
) -> list[dict[str, Any]]:
    """Each criterion's decision for this iteration, with its state to persist."""
    label_set = ws.config.label_set
    criteria = make_criteria(settings, len(label_set))
    needs = criteria_needs(criteria.values())
    labelled = labelled_items(ws, texts=False)
    proba = labeled = None
    if needs & {"predictions", "proba"}:
        model = load_model(model_path)
        items = items_by_id(ws, stopping_set(ws, settings.stopping_set_size))
        if len(items):
            proba = model.classifier.predict_proba(model.features(ws, items))
            labeled = np.isin(items.id.to_numpy(), labelled.id.to_numpy())
    eval_metrics = None
    if "eval" in needs:
        scores = evaluate_model(ws, model_path)
        if scores["n_eval"]:
            eval_metrics = {k: v for k, v in scores.items() if k != "n_eval"}
    ctx = build_context(
        iteration=loop_state(ws).n_trained,
        num_labeled=len(labelled),
        proba=proba,
        multi_label=label_set.multi_label,
        labeled=labeled,
        eval_metrics=eval_metrics,
    )
    previous = ws.query(
        "SELECT criterion, arg_max(state, iteration) AS state FROM stopping "
        "WHERE iteration < ? GROUP BY criterion",
        [iteration],
    )
    states = dict(zip(previous.criterion, previous.state, strict=True))
    rows = []
    for name, criterion in criteria.items():
        if states.get(name):
            criterion.load_state_dict(json.loads(states[name]))
        decision = criterion.check(ctx)
        rows.append(
            {
                "iteration": iteration,
                "criterion": name,
                "value": decision.value,
                "stop": bool(decision.stop),
                "applicable": bool(decision.applicable),
                "reason": decision.reason,
                "state": json.dumps(criterion.state_dict()),
            }
        )
    return rows
