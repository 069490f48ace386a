"""The stopping step: each configured criterion's decision, with its state for the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from al_core.pipeline.model import load_model
from al_core.pipeline.state import items_by_id, labelled_items, loop_state, stopping_set
from al_core.registry import make_stopping
from al_core.stopping import StoppingContext
from al_core.storage import ActiveLearningSettings, Workspace


def check_stopping(
    ws: Workspace, iteration: int, model_path: str | Path, settings: ActiveLearningSettings
) -> list[dict[str, Any]]:
    """Each criterion's decision for this iteration, with its state to persist."""
    label_set = ws.config.label_set
    model = load_model(model_path)
    items = items_by_id(ws, stopping_set(ws, settings.stopping_set_size))
    proba = model.classifier.predict_proba(model.features(ws, items)) if len(items) else None
    predictions = None if proba is None else proba.argmax(axis=1)
    previous = ws.query(
        "SELECT criterion, arg_max(state, iteration) AS state FROM stopping "
        "WHERE iteration < ? GROUP BY criterion",
        [iteration],
    )
    states = dict(zip(previous.criterion, previous.state, strict=True))
    n_trained = loop_state(ws).n_trained + 1
    n_labeled = len(labelled_items(ws))
    rows = []
    for name in settings.stopping:
        if name == "kappa-average" and (label_set.multi_label or predictions is None):
            continue  # needs single-label predictions on a non-empty stopping set
        criterion = make_stopping(
            name,
            num_classes=len(label_set),
            max_iterations=settings.max_iterations,
            kappa=settings.kappa,
        )
        if name in states and states[name]:
            criterion.load_state_dict(json.loads(states[name]))
        ctx = StoppingContext(
            iteration=n_trained,
            num_labeled=n_labeled,
            predictions=predictions,
            proba=proba,
        )
        decision = criterion.check(ctx)
        rows.append(
            {
                "iteration": iteration,
                "criterion": name,
                "value": decision.value,
                "stop": bool(decision.stop),
                "reason": decision.reason,
                "state": json.dumps(criterion.state_dict()),
            }
        )
    return rows
