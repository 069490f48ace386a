"""The ``alflow`` command line: workspaces, ingest, status (and the pipeline commands)."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

# Offline and quiet by default; a user can override each of these in the environment.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

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
    workspace: Annotated[Path, typer.Argument(help="Folder to create (new or empty).")],
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
    ws = Workspace.init(workspace, cfg)
    kind = "multi-label" if multi_label else "single-label"
    out.print(f"Created {kind} workspace [bold]{ws.path}[/] with labels: {', '.join(names)}")


@app.command()
@user_errors
def ingest(
    workspace: Annotated[Path, typer.Argument(help="An existing workspace.")],
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
        disable=as_json,
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
    workspace: Annotated[Path, typer.Argument(help="An existing workspace.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Pool size, labels, quarantine, iterations and queue state."""
    from al_core.storage import Workspace, workspace_status

    info = workspace_status(Workspace.open(workspace))
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
    table.add_row("iterations", str(info["iterations"]))
    out.print(table)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
