"""The query step: choose the next batch (initializer before the first model, else the strategy).

A batch that was exported by a run which crashed before recording it is adopted unchanged, so
annotators never see a batch change under them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.errors import ConfigError
from al_core.features import take_rows
from al_core.pipeline.export import batch_id_for, queue_for
from al_core.pipeline.model import (
    encode_targets,
    item_features,
    load_model,
    model_dir,
    read_meta,
)
from al_core.pipeline.partitions import select_by_partitions
from al_core.pipeline.state import candidate_items, labelled_items, loop_state
from al_core.query.uncertainty import ProbabilityScoreStrategy
from al_core.registry import make_embedder, make_initializer, make_strategy
from al_core.seeding import selection_seed
from al_core.storage import ActiveLearningSettings, Workspace, atomic_write_json


def select_batch(
    ws: Workspace,
    iteration: int,
    model_path: str | Path | None,
    settings: ActiveLearningSettings,
    scores: list[dict[str, Any]] | None = None,
) -> Path:
    """Choose the next batch and save it as ``models/iter-NNNN/selection.json``.

    ``scores`` are the results of :func:`al_core.pipeline.partitions.score_partition` over
    every partition of :func:`~al_core.pipeline.partitions.plan_scoring`, when a flow mapped
    them (over threads or a Dask cluster); without them the partitions are scored here.
    """
    out = model_dir(ws, iteration) / "selection.json"
    adopted = _adopt_exported(ws, iteration)
    if adopted is not None:
        atomic_write_json(out, adopted)
        return out
    candidates = candidate_items(ws, texts=False)
    # Round 0 is the initial selection, round k the k-th query (al_core/seeding.py).
    seed = selection_seed(settings.seed, 0 if model_path is None else loop_state(ws).n_trained + 1)
    n = min(settings.batch_size, len(candidates))
    if model_path is None:
        initializer = make_initializer(settings.initializer)
        extra = {}
        if initializer.needs_embeddings:
            candidates = candidate_items(ws)  # the embeddings of texts not yet cached need them
            extra["X"] = _embeddings(ws, settings, candidates)
        picks = initializer.select(len(candidates), n, seed=seed, **extra)
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
    strategy = make_strategy(settings.strategy)
    if isinstance(strategy, ProbabilityScoreStrategy):
        selection = select_by_partitions(
            ws, model, str(model_path), strategy, candidates, seed, n, scores
        )
        selection["model_version"] = read_meta(model_path)["version"]
        atomic_write_json(out, selection)
        return out
    candidates = candidate_items(ws)  # the whole-pool path needs the texts
    labelled = labelled_items(ws)
    frame = _concat(labelled, candidates)
    X = model.features(ws, frame)
    n_lab = len(labelled)
    y = encode_targets(model.label_set, labelled["labels"])
    result = strategy.query(
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


def _embeddings(ws: Workspace, settings: ActiveLearningSettings, items: pd.DataFrame):
    """Dense vectors of ``items`` from the settings' embedder, through the embedding cache."""
    embedder = make_embedder(settings.embedder)
    if not getattr(embedder, "cacheable", False):
        raise ConfigError(
            f"initializer {settings.initializer!r} needs dense embeddings; embedder "
            f"{settings.embedder!r} is fitted per model (use e.g. 'minilm')"
        )
    return np.asarray(item_features(ws, embedder, items), dtype=np.float32)


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
