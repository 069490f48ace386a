"""The steps of one active-learning iteration on a workspace, as plain functions.

The Prefect tasks in ``tasks/`` wrap these one to one; ``flows/iteration.py`` chains them:

    import labels -> plan -> (skip | embed -> train -> evaluate -> stopping -> select -> export)
    -> record

Every step reads its inputs from the workspace and writes its outputs as files, and nothing is
visible to the next iteration until :func:`record_iteration` commits the iteration row, the
query log and the stopping history in one transaction. A crashed iteration is therefore redone
from the start; an exported batch that was never recorded is adopted rather than re-queried, so
annotators never see a batch change under them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.errors import ConfigError
from al_core.features import take_rows
from al_core.pipeline.model import encode_targets, load_model, model_dir, read_meta
from al_core.pipeline.state import (
    candidate_items,
    items_by_id,
    labelled_items,
    labels_watermark,
    loop_state,
    new_label_count,
    pending_count,
    stopping_set,
)
from al_core.queues import ExportBatch, ExportItem, FileQueue
from al_core.registry import (
    lookup,
    make_initializer,
    make_stopping,
    make_strategy,
    resolve_embedder_name,
)
from al_core.stopping import StoppingContext
from al_core.storage import ActiveLearningSettings, Workspace, atomic_write_json, utcnow

QUEUE_DIR = "queue"


def resolve_settings(ws: Workspace, **overrides: Any) -> ActiveLearningSettings:
    """The workspace's settings with the non-None ``overrides`` applied, validated."""
    base = dataclasses.asdict(ws.config.active_learning)
    base.update({k: v for k, v in overrides.items() if v is not None})
    settings = ActiveLearningSettings(**base)
    settings.embedder = resolve_embedder_name(settings.classifier, settings.embedder)
    strategy = lookup("strategies", settings.strategy)
    lookup("classifiers", settings.classifier)
    lookup("initializers", settings.initializer)
    for name in settings.stopping:
        lookup("stopping", name)
    label_type = "multi" if ws.config.multi_label else "single"
    if label_type not in strategy.label_types:
        raise ConfigError(
            f"strategy {settings.strategy!r} does not support {label_type}-label workspaces"
        )
    if settings.batch_size < 1:
        raise ConfigError("batch_size must be at least 1")
    return settings


def queue_for(ws: Workspace) -> FileQueue:
    return FileQueue(ws.path / QUEUE_DIR)


@dataclass(frozen=True)
class Plan:
    iteration: int
    mode: str  # initial | train | skip
    n_new_labels: int
    n_labeled: int
    message: str
    labels_until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["labels_until"] = None if self.labels_until is None else self.labels_until.isoformat()
        return d


def plan_iteration(ws: Workspace, settings: ActiveLearningSettings, force: bool = False) -> Plan:
    """Decide what this run does: a first batch, a training round, or nothing (and why)."""
    state = loop_state(ws)
    it = state.next_iteration
    n_labeled = len(labelled_items(ws))
    n_new = new_label_count(ws, state.labels_watermark)
    watermark = labels_watermark(ws)
    if state.stopped and not force:
        return Plan(
            it,
            "skip",
            n_new,
            n_labeled,
            "the last iteration met its stopping criteria; use --force to go on",
        )
    if n_labeled == 0:
        waiting = pending_count(ws)
        if waiting:
            return Plan(
                it,
                "skip",
                n_new,
                0,
                f"no labels yet; {waiting} items are waiting in the annotation queue",
            )
        return Plan(it, "initial", 0, 0, "no labels yet: exporting a first batch")
    if state.last_trained_iteration is None:
        return Plan(it, "train", n_new, n_labeled, "training the first model", watermark)
    if n_new < settings.min_new_labels and not force:
        return Plan(
            it,
            "skip",
            n_new,
            n_labeled,
            f"only {n_new} new labels since iteration {state.last_trained_iteration} "
            f"(fewer than min_new_labels={settings.min_new_labels}); not retraining",
        )
    return Plan(it, "train", n_new, n_labeled, f"{n_new} new labels: retraining", watermark)


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


def batch_id_for(iteration: int) -> str:
    return f"batch-{iteration:04d}"


def _adopt_exported(ws: Workspace, iteration: int) -> dict[str, Any] | None:
    """An outbox batch of this iteration left by a run that crashed before recording it."""
    path = queue_for(ws).batch_path(batch_id_for(iteration))
    if not path.exists():
        return None
    tasks = json.loads(path.read_text(encoding="utf-8"))
    items = []
    for rank, task in enumerate(tasks):
        pred = (task.get("predictions") or [{}])[0]
        choices = [r["value"]["choices"] for r in pred.get("result", []) if "value" in r]
        items.append(
            {
                "id": task["data"]["id"],
                "score": pred.get("score"),
                "rank": rank,
                "predicted": choices[0] if choices else None,
            }
        )
    version = (tasks[0].get("predictions") or [{}])[0].get("model_version") if tasks else None
    return {"strategy": "adopted", "model_version": version, "items": items}


def export_selection(ws: Workspace, iteration: int, selection_path: str | Path) -> str | None:
    """Write the selection to the annotation queue; returns where it went (None if empty)."""
    selection = json.loads(Path(selection_path).read_text())
    if not selection["items"]:
        return None
    texts = items_by_id(ws, [it["id"] for it in selection["items"]])
    text_of = dict(zip(texts.id, texts.text, strict=True))
    batch = ExportBatch(
        batch_id=batch_id_for(iteration),
        iteration=iteration,
        model_version=selection["model_version"],
        items=[
            ExportItem(
                id=it["id"],
                text=text_of[it["id"]],
                score=it["score"],
                rank=it["rank"],
                predicted=it["predicted"],
            )
            for it in selection["items"]
        ],
    )
    queue = queue_for(ws)
    queue.write_label_studio_config(ws.config.label_set)
    return queue.export_batch(batch)


def record_iteration(
    ws: Workspace,
    plan: Plan,
    settings: ActiveLearningSettings,
    started_at: datetime,
    *,
    status: str,
    metrics: dict[str, Any] | None = None,
    stopping_rows: list[dict[str, Any]] | None = None,
    selection_path: str | Path | None = None,
    model_path: str | Path | None = None,
    message: str = "",
) -> dict[str, Any]:
    """Commit the iteration: its row, its query log and its stopping history, together."""
    metrics = metrics or {}
    now = utcnow()
    selection = json.loads(Path(selection_path).read_text()) if selection_path else None
    stop_rows = stopping_rows or []
    stop = any(r["stop"] for r in stop_rows)
    stop_reason = "; ".join(r["reason"] for r in stop_rows if r["stop"]) or None
    batch_id = batch_id_for(plan.iteration) if selection and selection["items"] else None
    version = read_meta(model_path)["version"] if model_path else None
    row = {
        "iteration": plan.iteration,
        "status": status,
        "started_at": started_at,
        "finished_at": now,
        "n_labeled": plan.n_labeled,
        "n_new_labels": plan.n_new_labels,
        "labels_until": plan.labels_until if status != "skipped" else None,
        "classifier": settings.classifier,
        "embedder": settings.embedder,
        "strategy": settings.strategy,
        "model_version": version,
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "stop": stop,
        "stop_reason": stop_reason,
        "batch_id": batch_id,
        "message": message or plan.message,
    }
    query_rows = [
        {
            "iteration": plan.iteration,
            "batch_id": batch_id,
            "strategy": selection["strategy"],
            "id": it["id"],
            "score": it["score"],
            "rank": it["rank"],
            "model_version": selection["model_version"],
            "created_at": now,
        }
        for it in (selection["items"] if selection else [])
    ]
    for r in stop_rows:
        r.setdefault("created_at", now)
    with ws.transaction() as tx:
        tx.append("iterations", [row])
        tx.append("query_log", query_rows)
        tx.append("stopping", stop_rows)
    return {**row, "n_queried": len(query_rows)}
