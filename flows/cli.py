"""The ``alflow`` command line: workspaces, ingest, status (and the pipeline commands)."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

# Prefect's temporary server must answer within this many seconds. Prefect's default (20) is
# too short for a first run on a busy machine: the server then creates and migrates its SQLite
# database, which took 47 s of wall time here with both cores busy (a warm start took 31 s).
PREFECT_STARTUP_TIMEOUT_S = "180"

# Offline and quiet by default; a user can override each of these in the environment. They are
# set before anything imports Prefect, which reads its settings once, at import.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": PREFECT_STARTUP_TIMEOUT_S,
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from rich.text import Text  # noqa: E402

from al_core.errors import AlflowError  # noqa: E402

app = typer.Typer(
    name="alflow",
    help="Active learning for text classification: workspaces, labelling rounds, simulations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)


class _NoteHandler(logging.Handler):
    """Storage notes (e.g. what a crash recovery repaired) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]note:[/] {record.getMessage()}", highlight=False, soft_wrap=True)


logging.getLogger("al_core.storage").addHandler(_NoteHandler(logging.WARNING))
logging.getLogger("al_core.storage").propagate = False


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def user_errors(fn):
    """Turn expected errors into one line on stderr and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (AlflowError, ValueError, KeyError, FileNotFoundError) as exc:
            if os.environ.get("ALFLOW_DEBUG"):
                raise
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            fail(str(msg))

    return wrapper


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


@app.command()
@user_errors
def init(
    workspace: Annotated[
        str, typer.Argument(help="Folder (or s3://bucket/prefix) to create, new or empty.")
    ],
    labels: Annotated[str, typer.Option(help="Comma-separated label set, e.g. pos,neg.")],
    multi_label: Annotated[
        bool, typer.Option("--multi-label", help="Items may have several labels.")
    ] = False,
    text_column: Annotated[
        str, typer.Option(help="Default text column of ingested files.")
    ] = "text",
    id_column: Annotated[
        str, typer.Option(help="Default id column (ids are derived from the text when absent).")
    ] = "id",
    label_column: Annotated[str, typer.Option(help="Default label column.")] = "label",
    max_text_chars: Annotated[int, typer.Option(help="Longer texts are quarantined.")] = 20_000,
    label_policy: Annotated[
        str, typer.Option(help="How the current label is chosen: latest or majority.")
    ] = "latest",
) -> None:
    """Create a workspace with a fixed label set."""
    from al_core.storage import Workspace, WorkspaceConfig

    names = [n.strip() for n in labels.split(",") if n.strip()]
    cfg = WorkspaceConfig(
        labels=names,
        multi_label=multi_label,
        text_column=text_column,
        id_column=id_column,
        label_column=label_column,
        max_text_chars=max_text_chars,
        label_policy=label_policy,
    )
    if multi_label:  # the uncertainty strategies are single-label; random works for both
        cfg.active_learning.strategy = "random"
    ws = Workspace.init(workspace, cfg)
    kind = "multi-label" if multi_label else "single-label"
    out.print(f"Created {kind} workspace [bold]{ws.uri}[/] with labels: {', '.join(names)}")


@app.command()
@user_errors
def ingest(
    workspace: Annotated[str, typer.Argument(help="An existing workspace (folder or URL).")],
    file: Annotated[
        str,
        typer.Argument(
            help="CSV, TSV, JSONL, JSON, Parquet, a saved HF dataset folder, or hf:NAME."
        ),
    ],
    text_column: Annotated[
        str | None, typer.Option(help="Text column (default: the workspace's).")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="Label column; rows with a label are recorded as labelled.")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Id column; ids are derived from the text when absent.")
    ] = None,
    role: Annotated[
        str, typer.Option(help="pool (may be queried) or eval (held-out evaluation set).")
    ] = "pool",
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV/TSV/JSON files.")] = "utf-8",
    split: Annotated[str | None, typer.Option(help="Split of a Hugging Face dataset.")] = None,
    annotator: Annotated[
        str, typer.Option(help="Annotator recorded for labels in the file.")
    ] = "import",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add a file's texts (and any labels) to the pool, validated; bad rows are quarantined."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from al_core.ingest import ingest_file
    from al_core.storage import Workspace

    ws = Workspace.open(workspace)
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("read", total=None)
        report = ingest_file(
            ws,
            file,
            text_column=text_column,
            label_column=label_column,
            id_column=id_column,
            role=role,
            encoding=encoding,
            split=split,
            annotator=annotator,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report.to_dict())
        return
    out.print(report.summary(), highlight=False)
    for reason, count in report.reasons.most_common():
        out.print(f"  quarantined: {count} x {reason}", highlight=False)
    if report.n_quarantined:
        out.print("  (see `alflow status --json` or the quarantine table for each row's reason)")


@app.command()
@user_errors
def status(
    workspace: Annotated[str, typer.Argument(help="An existing workspace (folder or URL).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Pool size, labels, quarantine, iterations and queue state."""
    from al_core.pipeline import pipeline_status
    from al_core.storage import Workspace

    info = pipeline_status(Workspace.open(workspace))
    if as_json:
        print_json(info)
        return
    table = Table(title=f"alflow workspace {info['workspace']}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    kind = "multi-label" if info["multi_label"] else "single-label"
    table.add_row("labels", f"{', '.join(info['labels'])} ({kind}, policy {info['label_policy']})")
    table.add_row(
        "pool", f"{info['pool_size']} items ({info['eval_size']} more held out for evaluation)"
    )
    table.add_row("labelled", f"{info['labelled']} ({info['unlabelled']} unlabelled)")
    table.add_row("label counts", ", ".join(f"{k}: {v}" for k, v in info["label_counts"].items()))
    table.add_row(
        "label events", f"{info['label_events']} ({info['disagreements']} items with disagreements)"
    )
    table.add_row("quarantined", str(info["quarantined"]))
    last = info["last_iteration"]
    table.add_row(
        "iterations",
        f"{info['iterations']} trained"
        + (f"; last: {last['iteration']} {last['status']}" if last else "")
        + (f", accuracy {last['accuracy']:.3f}" if last and last["accuracy"] is not None else "")
        + (" (stopped)" if info["stopped"] else ""),
    )
    for d in info.get("stopping", []):
        verdict = "stop" if d["stop"] else "go on" if d["applicable"] else "n/a"
        table.add_row(Text(f"stopping: {d['criterion']}"), Text(f"{verdict} - {d['reason']}"))
    q = info["queue"]
    table.add_row(
        "queue",
        f"current batch {q['current_batch'] or '-'}, {q['pending_items']} items awaiting labels, "
        f"{q.get('inbox_waiting', 0)} label files in the inbox, "
        f"{q['new_labels_since_training']} new labels since the last training",
    )
    if q["queue"] == "label-studio":
        table.add_row(
            "label studio",
            f"{q['project_url'] or q['url'] + ' (no project yet)'}; last pull up to "
            f"{q['last_pull'] or '-'}; {q['withdrawn']} tasks withdrawn",
        )
    out.print(table)


# Commands defined in other modules register themselves on ``app`` when imported.
from flows import cli_pipeline, cli_production, cli_storage  # noqa: E402,F401

_KIND_ALIASES = {
    "strategy": "strategies",
    "classifier": "classifiers",
    "embedder": "embedders",
    "initializer": "initializers",
    "queue": "queues",
}


@app.command()
@user_errors
def simulate(
    train: Annotated[
        str, typer.Option(help="Labelled training file: the pool whose gold labels are revealed.")
    ],
    test: Annotated[str, typer.Option(help="Labelled test file that scores every round.")],
    strategy: Annotated[
        str,
        typer.Option(help="Query strategies, comma-separated; random always runs as baseline."),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder for the report files.")],
    classifier: Annotated[
        str, typer.Option(help="Classifier (see `alflow list classifiers`).")
    ] = "embedding-logreg",
    embedder: Annotated[
        str | None,
        typer.Option(
            help="Embedder name or a local sentence-transformers folder (default: the "
            "classifier's)."
        ),
    ] = None,
    initial: Annotated[int, typer.Option(help="Labels revealed before the first model.")] = 25,
    batch_size: Annotated[int, typer.Option(help="Labels queried per round.")] = 25,
    iterations: Annotated[int, typer.Option(help="Query rounds per run.")] = 20,
    seeds: Annotated[int, typer.Option(help="Runs per strategy (seeds 0..N-1).")] = 3,
    text_column: Annotated[str, typer.Option(help="Text column of both files.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column of both files.")] = "label",
    initializer: Annotated[
        str, typer.Option(help="How the initial labels are picked: random or stratified.")
    ] = "random",
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Embedding cache to reuse between runs (default: OUT/.embeddings)."),
    ] = None,
    stopping: Annotated[
        str | None,
        typer.Option(
            help="Stopping criteria to check, comma-separated, e.g. "
            "'kappa-average,label-budget(budget=300),any(delta-f,overall-uncertainty)'; "
            "summary.json records where each first fires (runs still use the full budget)."
        ),
    ] = None,
    stopping_set_size: Annotated[
        int, typer.Option(help="Training texts the stopping criteria predict on.")
    ] = 1000,
    target: Annotated[
        float | None,
        typer.Option(help="Score for 'labels to target' (default: 95% of the full-data score)."),
    ] = None,
    label_separator: Annotated[
        str | None,
        typer.Option(help="Split label cells on this string: multi-label data (e.g. ',')."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Compare query strategies on labelled data: learning curves, table and report.

    A label column of lists (or --label-separator) makes it a multi-label simulation.
    """
    # Our progress bar replaces Hugging Face's; Prefect's own log goes to its API (the UI), and
    # errors reach the terminal once, as one line. Both can be turned back on in the env.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    _prefect_console_level(
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    )
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from al_core.simulation import format_table
    from flows.prefect_api import prefect_api, start_temporary_server
    from flows.simulate import check_config, simulate_flow

    # Names first: a typo fails here, before Prefect starts its server or a file is read.
    check_config(
        strategy,
        classifier=classifier,
        embedder=embedder,
        initializer=initializer,
        initial=initial,
        batch_size=batch_size,
        iterations=iterations,
        seeds=seeds,
        stopping=stopping or (),
    )
    start_temporary_server()  # Prefect's server (none configured) starts in its own process
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rounds"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting Prefect", total=None)

        def progress(step: str, completed: int, total: int) -> None:
            bar.update(task, description=step, completed=completed, total=total or None)

        with prefect_api():
            summary = simulate_flow(
                train=train,
                test=test,
                strategies=[strategy],
                classifier=classifier,
                embedder=embedder,
                initial=initial,
                batch_size=batch_size,
                iterations=iterations,
                seeds=seeds,
                out_dir=str(out_dir),
                text_column=text_column,
                label_column=label_column,
                initializer=initializer,
                cache_dir=None if cache_dir is None else str(cache_dir),
                progress=progress,
                stopping=stopping,
                stopping_set_size=stopping_set_size,
                target=target,
                label_separator=label_separator,
            )
    if as_json:
        print_json(summary)
        return
    out.print(format_table(summary), highlight=False, markup=False)
    out.print(f"report: {out_dir / 'report.md'}", highlight=False, markup=False)
    out.print(f"plot:   {out_dir / 'learning_curve.png'}", highlight=False, markup=False)


def _prefect_console_level(level: str) -> None:
    """Set the level of Prefect's terminal log handler, even if Prefect is already imported
    (its logging is configured once, at import, from the environment)."""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(int(level) if level.strip().isdigit() else level.strip().upper())


@app.command("list")
@user_errors
def list_plugins(
    kind: Annotated[
        str,
        typer.Argument(
            help="strategies, classifiers, embedders, stopping, initializers or queues."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the registered plug-ins of one kind with their descriptions."""
    from al_core.registry import describe

    kind = _KIND_ALIASES.get(kind.strip().lower(), kind.strip().lower())
    rows = describe(kind)
    if as_json:
        print_json(rows)
        return
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    table = Table(title=f"alflow {kind}")
    for name in columns:
        table.add_column(name.replace("_", " "), style="bold" if name == "name" else None)
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
