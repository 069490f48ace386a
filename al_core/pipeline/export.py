"""The export step: send a selection to the workspace's annotation queue.

:func:`queue_for` builds the queue the workspace's config names (``queue.kind``: the file queue
under ``queue/``, or a Label Studio server). Each exported item carries the model's predicted
label(s) and its confidence in them (the prediction's score in Label Studio) and the query
strategy's score (in the task's metadata).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from al_core.pipeline.state import items_by_id
from al_core.queues import (
    AnnotationQueue,
    ExportBatch,
    ExportItem,
    FileQueue,
    LabelStudioQueue,
    from_ls_tasks,
    token_source_for,
)
from al_core.storage import Workspace

QUEUE_DIR = "queue"

SecretLookup = Callable[[str], str]
"""Reads a secret by name (a Prefect Secret block); passed in by the Prefect layer."""


def queue_for(ws: Workspace, secrets: SecretLookup | None = None) -> AnnotationQueue:
    """The workspace's annotation queue, as its config says (``alflow connect`` sets it)."""
    settings = ws.config.queue
    location = ws.location.child(QUEUE_DIR)
    if settings.kind == "file":
        queue: AnnotationQueue = FileQueue(location)
        return queue
    return LabelStudioQueue(
        location,
        settings.url,
        ws.config.label_set,
        token_source_for(settings.token_env, settings.token_block, secrets),
        title=settings.project_title or default_project_title(ws),
        project_id=settings.project_id,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
    )


def workspace_key(uri: str) -> str:
    """A short name for a workspace, unique per location: ``<folder name>-<6 hex of its URI>``.

    Lowercase letters, digits and dashes only (what Prefect artifact keys allow).
    """
    name = uri.rstrip("/").rsplit("/", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:30] or "workspace"
    return f"{name}-{hashlib.sha256(uri.encode()).hexdigest()[:6]}"


def default_project_title(ws: Workspace) -> str:
    """``alflow: <workspace key>``: two workspaces never share a project by accident."""
    return f"alflow: {workspace_key(ws.uri)}"


def batch_id_for(iteration: int) -> str:
    return f"batch-{iteration:04d}"


def export_selection(
    ws: Workspace,
    iteration: int,
    selection_path: str | Path,
    secrets: SecretLookup | None = None,
) -> str | None:
    """Send the selection to the annotation queue; returns where it went (None if empty).

    A batch recorded before (a run that failed after exporting it) is sent again exactly as
    recorded, so the queue sends only what is missing and annotators never see it change.
    """
    selection = json.loads(Path(selection_path).read_text())
    if not selection["items"]:
        return None
    queue = queue_for(ws, secrets)
    batch_id = batch_id_for(iteration)
    recorded = queue.read_batch(batch_id)
    if recorded is not None:
        batch = from_ls_tasks(batch_id, recorded)
    else:
        batch = _new_batch(ws, iteration, batch_id, selection, Path(selection_path))
    if isinstance(queue, FileQueue):
        queue.write_label_studio_config(ws.config.label_set)
    return queue.export_batch(batch)


def _new_batch(
    ws: Workspace, iteration: int, batch_id: str, selection: dict, selection_path: Path
) -> ExportBatch:
    ids = [it["id"] for it in selection["items"]]
    texts = items_by_id(ws, ids)
    text_of = dict(zip(texts.id, texts.text, strict=True))
    confidence = _confidences(ws, selection_path.parent / "model", texts, selection)
    return ExportBatch(
        batch_id=batch_id,
        iteration=iteration,
        model_version=selection["model_version"],
        items=[
            ExportItem(
                id=it["id"],
                text=text_of[it["id"]],
                score=it["score"],
                rank=it["rank"],
                predicted=it["predicted"],
                confidence=confidence.get(it["id"]),
            )
            for it in selection["items"]
        ],
    )


def _confidences(ws: Workspace, model_path: Path, items, selection: dict) -> dict[str, float]:
    """The model's confidence in each item's predicted label(s); empty without a model.

    Single-label: the probability of the predicted label. Multi-label: the mean, over the
    labels, of the probability of the decision taken for each (``p`` if predicted, else
    ``1 - p``), so 1 means every yes and no was certain.
    """
    if selection["model_version"] is None or not model_path.is_dir():
        return {}
    if all(it.get("confidence") is not None for it in selection["items"]):
        # Scored by partitions, which keep each row's probability: no second read of the
        # vectors (at a million items that read is a scan of the whole embedding cache).
        return {it["id"]: it["confidence"] for it in selection["items"]}
    from al_core.pipeline.model import load_model

    model = load_model(model_path)
    proba = np.asarray(model.classifier.predict_proba(model.features(ws, items)), dtype=float)
    names = list(model.label_set.names)
    predicted = {it["id"]: it["predicted"] or [] for it in selection["items"]}
    out = {}
    for row, item in zip(proba, items.id, strict=True):
        chosen = np.isin(names, predicted[item])
        if model.label_set.multi_label:
            out[item] = float(np.where(chosen, row, 1.0 - row).mean())
        else:
            out[item] = float(row[chosen].max()) if chosen.any() else float(row.max())
    return out
