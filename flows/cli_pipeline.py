"""``alflow iterate``, ``alflow export`` and ``alflow import-labels`` (registered on the app)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from flows.cli import app, err, out, print_json, user_errors


@app.command()
@user_errors
def iterate(
    workspace: Annotated[str, typer.Argument(help="An existing workspace (folder or URL).")],
    strategy: Annotated[
        str | None, typer.Option(help="Query strategy (see `alflow list strategies`).")
    ] = None,
    classifier: Annotated[
        str | None, typer.Option(help="Classifier (see `alflow list classifiers`).")
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder name or a local sentence-transformers folder.")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Items to export per batch.")] = None,
    min_new_labels: Annotated[
        int | None, typer.Option(help="Retrain only when at least this many new labels arrived.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Retrain even with few new labels or after a stop.")
    ] = False,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Run embedding and scoring on a Dask cluster: its scheduler address "
            "(tcp://host:8786) or 'local' (default: the workspace's dask_address; none: threads)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the iteration summary as JSON.")
    ] = False,
) -> None:
    """Run one active-learning iteration as a Prefect flow (import, train, query, export)."""
    from al_core.errors import AlflowError
    from al_core.storage import Workspace
    from flows.prefect_api import prefect_api, start_temporary_server
    from flows.runners import check_dask_address

    # Fail fast on a bad workspace, a run already in progress or a bad Dask address before
    # Prefect's server starts, and on bad settings before the flow starts (a failed flow would
    # print Prefect's traceback before our one-line error). The run lock is released again at
    # once; the flow takes it for the whole run and checks again.
    ws = Workspace.open(workspace)
    with ws.run_lock():
        pass
    check_dask_address(dask if dask is not None else ws.config.active_learning.dask_address)
    # Prefect's server (when none is configured) starts now, in its own process, so that its
    # start-up overlaps the imports below (the pipeline's and Prefect's own).
    start_temporary_server()
    from al_core.pipeline import resolve_settings

    resolve_settings(
        ws,
        strategy=strategy,
        classifier=classifier,
        embedder=embedder,
        batch_size=batch_size,
        min_new_labels=min_new_labels,
    )
    if not as_json:
        err.print("starting the Prefect flow alflow-iteration ...", highlight=False)
    from prefect.exceptions import FailedRun

    from flows.iteration import iteration_flow

    try:
        with prefect_api():
            summary = iteration_flow(
                str(workspace),
                dask_address=dask,
                strategy=strategy,
                classifier=classifier,
                embedder=embedder,
                batch_size=batch_size,
                min_new_labels=min_new_labels,
                force=force,
            )
    except FailedRun as exc:  # the flow ended itself as Failed with a one-line reason
        raise AlflowError(str(exc)) from None
    if as_json:
        print_json(summary)
        return
    for rep in summary["imported"]:
        if "error" in rep:
            out.print(f"rejected label file {rep['source']}: {rep['error']}", highlight=False)
        else:
            out.print(f"imported {_import_line(rep)}", highlight=False)
    out.print(
        f"iteration {summary['iteration']}: {summary['status']} - {summary['message']}",
        highlight=False,
    )
    if summary.get("accuracy") is not None:
        out.print(
            f"  accuracy {summary['accuracy']:.3f}, macro-F1 {summary['macro_f1']:.3f} "
            f"on the evaluation set, {summary['n_labeled']} labelled items"
        )
    if summary.get("stop"):
        out.print(f"  stopping: {summary['stop_reason']}", highlight=False)
    if summary.get("batch"):
        out.print(f"  exported {summary['n_queried']} items to {summary['batch']}", highlight=False)
    for reason, ids in (summary.get("withdrawn") or {}).items():
        out.print(f"  withdrew {len(ids)} unanswered items: {reason}", highlight=False)


def _import_line(rep: dict) -> str:
    from al_core.pipeline.label_import import describe_import

    line = describe_import(rep)
    if rep["reasons"] and not rep.get("file_seen_before"):
        line += "; rejected: " + ", ".join(f"{n} x {r}" for r, n in rep["reasons"].items())
    return line


@app.command()
@user_errors
def export(
    workspace: Annotated[str, typer.Argument(help="An existing workspace (folder or URL).")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the current batch as a JSON list of Label Studio tasks."""
    from al_core.pipeline import queue_for
    from al_core.pipeline.state import latest_batch
    from al_core.storage import Workspace, atomic_write_text

    ws = Workspace.open(workspace)
    batch = latest_batch(ws)
    if batch is None:
        raise ValueError(f"no batch exported yet; run `alflow iterate {workspace}` first")
    tasks = queue_for(ws).read_batch(batch)
    if tasks is None:
        raise ValueError(f"batch {batch} is missing or unreadable in the queue outbox")
    text = json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    atomic_write_text(out_file, text)
    n = len(json.loads(text))
    err.print(f"wrote {n} tasks of {batch} to {out_file}", highlight=False)


@app.command("import-labels")
@user_errors
def import_labels(
    workspace: Annotated[str, typer.Argument(help="An existing workspace (folder or URL).")],
    file: Annotated[
        Path, typer.Argument(help="Label Studio JSON export, CSV (id,label) or JSONL.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Record an annotator's labels; prints how many were new, changed, unchanged or rejected."""
    from al_core.pipeline import import_label_file
    from al_core.storage import Workspace

    report = import_label_file(Workspace.open(workspace), file)
    if as_json:
        print_json(report.to_dict())
        return
    out.print(_import_line(report.to_dict()), highlight=False)
    if report.rejected:
        out.print("  rejected rows are in the quarantine table with their reasons")
