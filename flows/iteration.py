"""The active-learning iteration as a Prefect flow.

import labels from the queue -> validate (rejects to quarantine) -> plan (stop early, saying
why, when too few new labels arrived) -> embed new items -> train -> evaluate -> check
stopping -> query -> export the batch -> record -> withdraw items no longer wanted -> prune old models (when
``keep_models`` is set).
Embedding and scoring of the pool are mapped over partitions on local threads, or on the
Dask cluster of the ``dask_address`` parameter or workspace setting (``flows/runners.py``).

Every task works on files in the workspace, so a re-run of a finished or crashed iteration
neither duplicates nor loses anything (see ``al_core/pipeline/``). An annotation queue that
cannot be reached (Label Studio down, a refused token) ends the run as Failed with one line
saying so, before anything is recorded; an exported batch is kept in the workspace and the
next run sends it. The run's name, tags and artifacts are described in ``flows/publish.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, unmapped
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from al_core.errors import ConfigError
from al_core.pipeline import resolve_settings
from al_core.pipeline.partitions import summarize_embedding
from al_core.query.uncertainty import ProbabilityScoreStrategy
from al_core.registry import make_strategy
from al_core.storage import Location, Workspace, utcnow
from flows.publish import label_flow_run, publish_failure, publish_iteration, workspace_key
from flows.runners import LOCAL_THREADS, PartitionRunner
from tasks import (
    check_stop,
    embed_partition,
    evaluate,
    export_batch,
    import_labels,
    plan,
    plan_embedding,
    plan_scoring,
    prune,
    record,
    score_partition,
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


@flow(
    name="alflow-iteration",
    log_prints=False,
    flow_run_name=_run_name,
    task_runner=ThreadPoolTaskRunner(LOCAL_THREADS),
)
def iteration_flow(
    workspace: str,
    strategy: str | None = None,
    classifier: str | None = None,
    embedder: str | None = None,
    batch_size: int | None = None,
    min_new_labels: int | None = None,
    force: bool = False,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Run one iteration on ``workspace``; arguments override the workspace's settings
    (``dask_address``: where partitions run, see ``flows/runners.py``)."""
    t0 = time.perf_counter()
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
    if dask_address is None:
        dask_address = ws.config.active_learning.dask_address
    timings: dict[str, float] = {}
    with ws.run_lock(), PartitionRunner(dask_address) as partitions:
        with _timed(timings, "import_labels"):
            imported = import_labels(workspace)
        failure = next((r["error"] for r in imported if r.get("queue_error")), None)
        if failure:
            return _fail(ws, None, f"{failure}; nothing was changed")
        with _timed(timings, "plan"):
            p = plan(workspace, cfg, force=force)
        label_flow_run(ws, p.iteration, p.mode)
        log.info("iteration %d: %s", p.iteration, p.message)
        outcome: dict[str, Any] = {}
        if p.mode == "skip":
            result = record(workspace, p, cfg, started, status="skipped")
        elif p.mode == "initial":
            with _timed(timings, "select"):
                selection = select(workspace, p.iteration, None, cfg)
            with _timed(timings, "export"):
                exported = export_batch(workspace, p.iteration, selection)
            if exported["error"]:
                return _fail(ws, p.iteration, exported["error"])
            outcome["batch"] = exported["where"]
            with _timed(timings, "record"):
                result = record(
                    workspace, p, cfg, started, status="initial", selection_path=selection
                )
        else:
            with _timed(timings, "embed"):
                outcome["embedding"] = _embed(partitions, workspace, settings.embedder)
            with _timed(timings, "train"):
                model = train(workspace, p.iteration, cfg)
            with _timed(timings, "evaluate"):
                metrics = evaluate(workspace, model)
            with _timed(timings, "stopping"):
                stopping = check_stop(workspace, p.iteration, model, cfg)
            if any(r["stop"] for r in stopping):
                with _timed(timings, "record"):
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
                with _timed(timings, "select"):
                    selection, outcome["scoring"] = _select(
                        partitions, workspace, p.iteration, model, cfg
                    )
                with _timed(timings, "export"):
                    exported = export_batch(workspace, p.iteration, selection)
                if exported["error"]:
                    return _fail(ws, p.iteration, exported["error"])
                outcome["batch"] = exported["where"]
                with _timed(timings, "record"):
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
            meta = json.loads((Path(model).parent / "meta.json").read_text())
            timings["fit_seconds"] = float(meta.get("train_seconds", 0.0))
        with _timed(timings, "withdraw"):
            outcome["withdrawn"] = withdraw(workspace)["withdrawn"]
        if settings.keep_models is not None and p.mode not in ("skip", "initial"):
            with _timed(timings, "prune"):
                outcome["pruned"] = prune(workspace, settings.keep_models)
    timings["flow_seconds"] = time.perf_counter() - t0
    outcome["timings"] = {k: round(v, 3) for k, v in timings.items()}
    summary = {**result, **outcome, "imported": imported, "plan": p.to_dict()}
    summary["artifacts"] = publish_iteration(ws, summary, settings)
    return summary


@contextlib.contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = time.perf_counter() - started


def _embed(partitions: PartitionRunner, workspace: str, embedder: str | None) -> dict[str, Any]:
    """Embed the texts the cache lacks, mapped over partitions."""
    started = time.perf_counter()
    specs = plan_embedding(workspace, embedder)
    # A progress bar when a person is watching and one partition runs here.
    progress = sys.stderr.isatty() and len(specs) == 1 and partitions.dask_address is None
    results = partitions.map(
        embed_partition, workspace=unmapped(workspace), spec=specs, progress=unmapped(progress)
    )
    return summarize_embedding(embedder, results, time.perf_counter() - started)


def _select(
    partitions: PartitionRunner, workspace: str, iteration: int, model: str, cfg: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Score the pool mapped over partitions (when the strategy allows), then select."""
    if not isinstance(make_strategy(cfg["strategy"]), ProbabilityScoreStrategy):
        return select(workspace, iteration, model, cfg), {"partitions": 0}
    specs = plan_scoring(workspace, model, cfg["partition_rows"])
    parts = partitions.map(
        score_partition,
        workspace=unmapped(workspace),
        model_path=unmapped(model),
        strategy=unmapped(cfg["strategy"]),
        spec=specs,
    )
    info = {
        "partitions": len(parts),
        "rows": int(sum(p["rows"] for p in parts)),
        "pids": sorted({p["pid"] for p in parts}),
        "read_seconds": round(sum(p["read_seconds"] for p in parts), 3),
        "compute_seconds": round(sum(p["compute_seconds"] for p in parts), 3),
    }
    return select(workspace, iteration, model, cfg, scores=parts), info


def _fail(ws: Workspace, iteration: int | None, message: str) -> State:
    """End the run as Failed with ``message`` (one line), keeping the UI's figures in view."""
    get_run_logger().error("%s", message)
    publish_failure(ws, iteration, message)
    return Failed(message=message)
