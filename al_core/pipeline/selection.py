"""The query step: choose the next batch (initializer before the first model, else the strategy).

A batch that was exported by a run which crashed before recording it is adopted unchanged, so
annotators never see a batch change under them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.features import take_rows
from al_core.pipeline.export import batch_id_for, queue_for
from al_core.pipeline.model import encode_targets, load_model, model_dir, read_meta
from al_core.pipeline.state import candidate_items, labelled_items
from al_core.registry import make_initializer, make_strategy
from al_core.storage import ActiveLearningSettings, Workspace, atomic_write_json


def select_batch(
    ws: Workspace,
    iteration: int,
    model_path: str | Path | None,
    settings: ActiveLearningSettings,
) -> Path:
    """Choose the next batch and save it as ``models/iter-NNNN/selection.json``."""
    out = model_dir(ws, iteration) / "selection.json"
    adopted = _adopt_exported(ws, iteration)
    if adopted is not None:
        atomic_write_json(out, adopted)
        return out
    candidates = candidate_items(ws)
    seed = settings.seed * 100_003 + iteration
    n = min(settings.batch_size, len(candidates))
    if model_path is None:
        picks = make_initializer(settings.initializer).select(len(candidates), n, seed=seed)
        selection = {
            "strategy": f"init:{settings.initializer}",
            "model_version": None,
            "items": [
                {"id": candidates.id.iat[int(i)], "score": None, "rank": r, "predicted": None}
                for r, i in enumerate(picks)
            ],
        }
        atomic_write_json(out, selection)
        return out
    model = load_model(model_path)
    labelled = labelled_items(ws)
    frame = _concat(labelled, candidates)
    X = model.features(ws, frame)
    n_lab = len(labelled)
    y = encode_targets(model.label_set, labelled["labels"])
    result = make_strategy(settings.strategy).query(
        model.classifier, X, np.arange(n_lab, len(frame)), np.arange(n_lab), y, n, seed=seed
    )
    predicted = model.predict_labels(take_rows(X, result.indices)) if n else []
    selection = {
        "strategy": settings.strategy,
        "model_version": read_meta(model_path)["version"],
        "items": [
            {"id": frame.id.iat[int(i)], "score": float(s), "rank": r, "predicted": p}
            for r, (i, s, p) in enumerate(
                zip(result.indices, result.scores, predicted, strict=True)
            )
        ],
    }
    atomic_write_json(out, selection)
    return out


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    cols = ["id", "text", "content_hash"]
    return pd.concat([a[cols], b[cols]], ignore_index=True)


def _adopt_exported(ws: Workspace, iteration: int) -> dict[str, Any] | None:
    """An outbox batch of this iteration left by a run that crashed before recording it."""
    tasks = queue_for(ws).read_batch(batch_id_for(iteration))
    if tasks is None:
        return None
    items = []
    for rank, task in enumerate(tasks):
        pred = (task.get("predictions") or [{}])[0]
        choices = [r["value"]["choices"] for r in pred.get("result", []) if "value" in r]
        # The query score is in the task's meta (the prediction's score is the confidence).
        items.append(
            {
                "id": task["data"]["id"],
                "score": (task.get("meta") or {}).get("query_score"),
                "rank": rank,
                "predicted": choices[0] if choices else None,
            }
        )
    version = (tasks[0].get("predictions") or [{}])[0].get("model_version") if tasks else None
    return {"strategy": "adopted", "model_version": version, "items": items}
