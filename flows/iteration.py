"""The active-learning iteration as a Prefect flow.

import labels from the queue -> validate (rejects to quarantine) -> plan (stop early, saying
why, when too few new labels arrived) -> embed new items -> train -> evaluate -> check
stopping -> query -> export the batch -> record -> withdraw items no longer wanted.

Every task works on files in the workspace, so a re-run of a finished or crashed iteration
neither duplicates nor loses anything (see ``al_core/pipeline/``). An annotation queue that
cannot be reached (Label Studio down, a refused token) ends the run as Failed with one line
saying so, before anything is recorded; an exported batch is kept in the workspace and the
next run sends it. The run's name, tags and artifacts are described in ``flows/publish.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed, State

from al_core.errors import ConfigError
from al_core.pipeline import resolve_settings
from al_core.storage import Location, Workspace, utcnow
from flows.publish import label_flow_run, publish_failure, publish_iteration, workspace_key
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
    withdraw,
)


def _run_name() -> str:
    """``<workspace key>-iteration`` until the plan knows the number (see flows/publish.py)."""
    from prefect.runtime import flow_run

    path = str(flow_run.parameters.get("workspace", ""))
    try:
        uri = Location(path).uri
    except Exception:  # a bad path fails in the flow itself, with its own message
        uri = path
    return f"{workspace_key(uri)}-iteration"


def _check_deployed_path(workspace: str) -> None:
    """A deployment's stored workspace must not depend on the worker's working directory."""
    from prefect.runtime import deployment

    if deployment.get_id() is None or "://" in workspace or workspace.startswith(("/", "~")):
        return
    raise ConfigError(
        f"the deployment's workspace parameter {workspace!r} is a relative path; store an "
        "absolute path or URL (alflow serve does; in prefect.yaml use an absolute path)"
    )


@flow(name="alflow-iteration", log_prints=False, flow_run_name=_run_name)
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
    _check_deployed_path(workspace)
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
        failure = next((r["error"] for r in imported if r.get("queue_error")), None)
        if failure:
            return _fail(ws, None, f"{failure}; nothing was changed")
        p = plan(workspace, cfg, force=force)
        label_flow_run(ws, p.iteration, p.mode)
        log.info("iteration %d: %s", p.iteration, p.message)
        outcome: dict[str, Any] = {}
        if p.mode == "skip":
            result = record(workspace, p, cfg, started, status="skipped")
        elif p.mode == "initial":
            selection = select(workspace, p.iteration, None, cfg)
            exported = export_batch(workspace, p.iteration, selection)
            if exported["error"]:
                return _fail(ws, p.iteration, exported["error"])
            outcome["batch"] = exported["where"]
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
                exported = export_batch(workspace, p.iteration, selection)
                if exported["error"]:
                    return _fail(ws, p.iteration, exported["error"])
                outcome["batch"] = exported["where"]
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
        withdrawn = withdraw(workspace)
        outcome["withdrawn"] = withdrawn["withdrawn"]
    summary = {**result, **outcome, "imported": imported, "plan": p.to_dict()}
    summary["artifacts"] = publish_iteration(ws, summary, settings)
    return summary


def _fail(ws: Workspace, iteration: int | None, message: str) -> State:
    """End the run as Failed with ``message`` (one line), keeping the UI's figures in view."""
    get_run_logger().error("%s", message)
    publish_failure(ws, iteration, message)
    return Failed(message=message)
