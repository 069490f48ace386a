"""The export step: write a selection to the workspace's annotation queue."""

from __future__ import annotations

import json
from pathlib import Path

from al_core.pipeline.state import items_by_id
from al_core.queues import ExportBatch, ExportItem, FileQueue
from al_core.storage import Workspace

QUEUE_DIR = "queue"


def queue_for(ws: Workspace) -> FileQueue:
    return FileQueue(ws.location.child(QUEUE_DIR))


def batch_id_for(iteration: int) -> str:
    return f"batch-{iteration:04d}"


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
