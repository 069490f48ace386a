"""The active-learning iteration as a Prefect flow.

import labels from the queue -> validate (great-expectations; rejects to quarantine) -> plan
(stop early, saying why, when too few new labels arrived) -> embed new items -> train ->
evaluate -> check stopping -> query -> export the batch -> record.

Every task works on files in the workspace, so a re-run of a finished or crashed iteration
neither duplicates nor loses anything (see ``al_core/pipeline/``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from al_core.pipeline import resolve_settings
from al_core.storage import Workspace, utcnow
from tasks import (
    check_stop,
    embed_pool,
    evaluate,
    export_batch,
    import_labels,
    plan,
    record,
    select,
    train,
)


@flow(name="alflow-iteration", log_prints=False)
def iteration_flow(
    workspace: str,
    strategy: str | None = None,
    classifier: str | None = None,
    embedder: str | None = None,
    batch_size: int | None = None,
    min_new_labels: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run one iteration on ``workspace``; arguments override the workspace's settings."""
    log = get_run_logger()
    ws = Workspace.open(workspace)
    workspace = ws.uri  # absolute: tasks may run in another working directory
    started = utcnow()
    settings = resolve_settings(
        ws,
        strategy=strategy,
        classifier=classifier,
        embedder=embedder,
        batch_size=batch_size,
        min_new_labels=min_new_labels,
    )
    cfg = dataclasses.asdict(settings)
    with ws.run_lock():
        imported = import_labels(workspace)
        p = plan(workspace, cfg, force=force)
        log.info("iteration %d: %s", p.iteration, p.message)
        outcome: dict[str, Any] = {}
        if p.mode == "skip":
            result = record(workspace, p, cfg, started, status="skipped")
        elif p.mode == "initial":
            selection = select(workspace, p.iteration, None, cfg)
            outcome["batch"] = export_batch(workspace, p.iteration, selection)
            result = record(workspace, p, cfg, started, status="initial", selection_path=selection)
        else:
            outcome["embedding"] = embed_pool(workspace, settings.embedder)
            model = train(workspace, p.iteration, cfg)
            metrics = evaluate(workspace, model)
            stopping = check_stop(workspace, p.iteration, model, cfg)
            if any(r["stop"] for r in stopping):
                result = record(
                    workspace,
                    p,
                    cfg,
                    started,
                    status="stopped",
                    metrics=metrics,
                    stopping_rows=stopping,
                    model_path=model,
                )
            else:
                selection = select(workspace, p.iteration, model, cfg)
                outcome["batch"] = export_batch(workspace, p.iteration, selection)
                result = record(
                    workspace,
                    p,
                    cfg,
                    started,
                    status="completed",
                    metrics=metrics,
                    stopping_rows=stopping,
                    selection_path=selection,
                    model_path=model,
                )
            outcome["metrics"] = metrics
            outcome["stopping"] = stopping
    summary = {**result, **outcome, "imported": imported, "plan": p.to_dict()}
    _publish(summary)
    return summary


def _publish(summary: dict[str, Any]) -> None:
    """Show the iteration in the Prefect UI (artifacts)."""
    lines = [
        f"# alflow iteration {summary['iteration']}: {summary['status']}",
        "",
        f"* {summary['message']}",
        f"* labelled items: {summary['n_labeled']} ({summary['n_new_labels']} new labels)",
    ]
    if summary.get("accuracy") is not None:
        lines.append(f"* accuracy {summary['accuracy']:.3f}, macro-F1 {summary['macro_f1']:.3f}")
    if summary.get("batch"):
        lines.append(f"* exported {summary['n_queried']} items to `{summary['batch']}`")
    if summary.get("stop"):
        lines.append(f"* **stop**: {summary['stop_reason']}")
    create_markdown_artifact(
        key="alflow-iteration", markdown="\n".join(lines), description="the latest alflow iteration"
    )
    if summary.get("stopping"):
        create_table_artifact(
            key="alflow-stopping",
            table=[
                {k: r[k] for k in ("criterion", "value", "stop", "reason")}
                for r in summary["stopping"]
            ],
            description="stopping criteria of the latest iteration",
        )
