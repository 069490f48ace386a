"""Ingest every file dropped in a folder (a deployment runs this on an interval).

Each file the folder holds (not hidden, not half-written: ``.part``, ``.tmp``, ...) is ingested
into the workspace, then moved to ``ingested/`` beside it, or to ``rejected/`` with
``<name>.reason.txt`` when it cannot be read at all. A file ingested before (same sha256) adds
nothing and is moved too, so a crash between the ingest and the move is harmless.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from al_core.errors import InputFileError
from al_core.ingest import ingest_file
from al_core.storage import Location, Workspace
from flows.publish import workspace_key

_PARTIAL = (".partial", ".part", ".tmp", ".crdownload", ".download", ".swp")


def waiting_files(folder: Path) -> list[Path]:
    """Files to ingest in ``folder``, oldest first."""
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "~"))
        and not p.name.lower().endswith(_PARTIAL)
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _move_aside(path: Path, sub: str) -> Path:
    target_dir = path.parent / sub
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    n = 0
    while target.exists():
        n += 1
        target = target_dir / f"{path.stem}-{n}{path.suffix}"
    os.replace(path, target)
    return target


@task(name="ingest-file", cache_policy=NO_CACHE)
def ingest_waiting(workspace: str, path: str, role: str, options: dict[str, Any]) -> dict:
    """Ingest one file and move it aside; returns the ingest report (or the error)."""
    file = Path(path)
    if not file.is_file():  # another run of this flow took it meanwhile
        return {"source": str(file), "error": "gone before it was read"}
    try:
        report = ingest_file(Workspace.open(workspace), file, role=role, **options).to_dict()
    except InputFileError as exc:
        moved = _move_aside(file, "rejected")
        moved.with_name(moved.name + ".reason.txt").write_text(str(exc) + "\n")
        get_run_logger().warning("rejected %s: %s", file.name, exc)
        return {"source": str(file), "error": str(exc)}
    _move_aside(file, "ingested")
    return report


@flow(name="alflow-ingest-folder")
def ingest_folder_flow(
    workspace: str,
    folder: str,
    role: str = "pool",
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
) -> list[dict[str, Any]]:
    """Ingest every waiting file of ``folder`` into ``workspace``, one after the other."""
    ws = Workspace.open(workspace)
    inbox = Path(folder).expanduser().absolute()
    if not inbox.is_dir():
        raise InputFileError(f"{inbox} is not a folder")
    options = {"text_column": text_column, "label_column": label_column, "id_column": id_column}
    reports = [ingest_waiting(ws.uri, str(path), role, options) for path in waiting_files(inbox)]
    if reports:
        create_table_artifact(
            key=f"{workspace_key(Location(ws.uri).uri)}-ingest",
            table=[
                {
                    "file": Path(r["source"]).name,
                    "rows": r.get("n_rows"),
                    "added": r.get("n_added"),
                    "quarantined": r.get("n_quarantined"),
                    "seen_before": r.get("already_ingested"),
                    "error": r.get("error"),
                }
                for r in reports
            ],
            description=f"files ingested from {inbox} into {ws.uri}",
        )
    return reports
