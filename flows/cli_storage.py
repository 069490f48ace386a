"""``alflow check``, ``alflow migrate``, ``alflow compact`` and ``alflow log`` (storage care)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from flows.cli import app, err, out, print_json, user_errors

WORKSPACE_ARG = typer.Argument(help="An existing workspace (folder or URL).")


@app.command()
@user_errors
def check(
    workspace: Annotated[str, WORKSPACE_ARG],
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what can be fixed (see the report).")
    ] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Read every row of every file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify the tables, commit log, embedding caches and saved models; say how to repair."""
    from al_core.pipeline.retention import check_artifacts, remove_leftovers
    from al_core.storage import Workspace
    from al_core.storage.check import check_workspace, repair_workspace

    ws = Workspace.open(workspace)
    actions = repair_workspace(ws) + remove_leftovers(ws) if repair else []
    report = check_workspace(ws, deep=deep)
    check_artifacts(ws, report)
    if as_json:
        print_json({**report.to_dict(), "repaired": actions})
    else:
        for line in actions:
            out.print(f"repaired: {line}", highlight=False)
        for name, facts in report.tables.items():
            detail = ", ".join(f"{k} {v}" for k, v in facts.items())
            out.print(f"{name}: {detail}", highlight=False)
        for p in report.problems:
            hint = f" -> --repair: {p.repair}" if p.repair and not repair else ""
            out.print(f"{p.severity}: {p.table}: {p.message}{hint}", highlight=False)
        out.print("ok" if report.ok else "damaged", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@user_errors
def migrate(workspace: Annotated[str, WORKSPACE_ARG]) -> None:
    """Convert a workspace written by an older alflow (Parquet parts) to Delta tables."""
    from al_core.storage.migrate import migrate_workspace

    result = migrate_workspace(workspace)
    rows = ", ".join(f"{t} {n}" for t, n in result["rows"].items() if n)
    out.print(f"migrated {result['workspace']}: {rows or 'no rows'}", highlight=False)
    if result["embedding_models"]:
        out.print(f"embedding caches: {', '.join(result['embedding_models'])}", highlight=False)
    err.print("the old files are kept under legacy-*/ in the workspace; delete them when done")


@app.command()
@user_errors
def compact(
    workspace: Annotated[str, WORKSPACE_ARG],
    vacuum_hours: Annotated[
        float | None,
        typer.Option(
            "--vacuum",
            help="Also delete files older versions needed, keeping this many hours of history.",
        ),
    ] = None,
    keep_models: Annotated[
        int | None,
        typer.Option(
            "--keep-models",
            min=1,
            help="Also delete the weights of all but the newest N models, and the cached "
            "vectors of fine-tuned bodies no kept model uses (each iteration's meta.json and "
            "selection.json stay).",
        ),
    ] = None,
) -> None:
    """Merge small table files (appends add one each); optionally delete unneeded old files."""
    from al_core.storage import Workspace

    ws = Workspace.open(workspace)
    if keep_models is not None:
        from al_core.pipeline import prune_models

        with ws.run_lock():  # no iteration may read a model while it goes
            pruned = prune_models(ws, keep_models)
        out.print(
            f"models: deleted the weights of {len(pruned['models_pruned'])}, kept "
            f"{', '.join(pruned['models_kept']) or 'none'}; dropped "
            f"{len(pruned['caches_dropped'])} body-vector caches; freed "
            f"{pruned['bytes_freed'] / 1e6:.1f} MB",
            highlight=False,
        )
    removed = ws.compact()
    out.print(
        "compacted: "
        + (", ".join(f"{t} ({n} files merged)" for t, n in removed.items()) or "nothing to do"),
        highlight=False,
    )
    if vacuum_hours is not None:
        deleted = ws.vacuum(retention_hours=vacuum_hours)
        out.print(f"vacuum: deleted {sum(deleted.values())} old files", highlight=False)


@app.command("log")
@user_errors
def show_log(
    workspace: Annotated[str, WORKSPACE_ARG],
    limit: Annotated[int, typer.Option(help="Show the newest N transactions.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The workspace's committed transactions, newest last (the audit trail)."""
    from al_core.storage import Workspace

    ws = Workspace.open(workspace)
    for row in ws.history()[-limit:]:
        summary = json.loads(row["summary"] or "{}")
        if as_json:
            print_json({**row, "summary": summary, "versions": json.loads(row["versions"])})
            continue
        out.print(
            f"{row['seq']:>6}  {row['created_at']:%Y-%m-%d %H:%M:%S}  {row['kind']:<10} "
            f"{summary.get('what', '')}",
            highlight=False,
        )
