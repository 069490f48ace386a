"""The last step: commit the iteration row, its query log and its stopping history together.

Nothing an iteration does is visible to the next one before this commit, so a crashed
iteration is redone from the start.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from al_core.errors import WorkspaceError
from al_core.pipeline.export import batch_id_for
from al_core.pipeline.model import read_meta
from al_core.pipeline.plan import Plan
from al_core.storage import ActiveLearningSettings, Workspace, utcnow


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
    with ws.transaction(kind="iteration", what=f"iteration {plan.iteration} ({status})") as tx:
        if status != "skipped" and ws.scalar(
            "SELECT count(*) FROM iterations WHERE iteration = ? AND status IN "
            "('initial', 'completed', 'stopped')",
            [plan.iteration],
        ):
            raise WorkspaceError(
                f"iteration {plan.iteration} was recorded by another run meanwhile; run "
                "`alflow iterate` again to start the next one"
            )
        tx.append("iterations", [row])
        tx.append("query_log", query_rows)
        tx.append("stopping", stop_rows)
    return {**row, "n_queried": len(query_rows)}
