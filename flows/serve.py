"""Serve a workspace's pipeline from one process: ``alflow serve WORKSPACE --cron EXPR``.

The one-process way to schedule (no work pool, no worker): the iteration flow is registered as
a deployment named after the workspace with the schedule, and, with ``watch``, the folder
ingest flow on an interval; the process then runs every scheduled or triggered run until it
is stopped. Stored parameters hold the workspace's absolute path or URL, so a run never depends
on the directory the process was started in. For work pools (process, Docker, Kubernetes)
use ``deployments/prefect.yaml`` instead (docs/OPERATIONS.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from al_core.errors import ConfigError
from al_core.storage import Workspace
from flows.publish import workspace_key


def serve_deployments(
    workspace: str,
    *,
    cron: str | None = None,
    interval: float | None = None,
    watch: str | None = None,
    watch_interval: float = 60.0,
    parameters: dict[str, Any] | None = None,
) -> list[Any]:
    """The deployments :func:`serve_workspace` serves (built, not yet registered)."""
    from flows.iteration import iteration_flow
    from flows.watch import ingest_folder_flow

    if (cron is None) == (interval is None):
        raise ConfigError("give exactly one schedule: --cron EXPR or --interval SECONDS")
    ws = Workspace.open(workspace)  # fails early on a path that is no workspace
    key = workspace_key(ws.uri)
    tags = ["alflow", f"workspace:{key}"]
    schedule: dict[str, Any] = {"cron": cron} if cron else {"interval": float(interval)}
    params = {k: v for k, v in (parameters or {}).items() if v is not None}
    deployments = [
        iteration_flow.to_deployment(
            name=key,
            parameters={"workspace": ws.uri, **params},
            tags=tags,
            description=f"active-learning iterations on {ws.uri}",
            **schedule,
        )
    ]
    if watch:
        folder = Path(watch).expanduser().absolute()
        if not folder.is_dir():
            raise ConfigError(f"--watch {watch}: no such folder")
        deployments.append(
            ingest_folder_flow.to_deployment(
                name=key,
                parameters={"workspace": ws.uri, "folder": str(folder)},
                tags=tags,
                interval=float(watch_interval),
                description=f"ingest files dropped in {folder} into {ws.uri}",
            )
        )
    return deployments


def serve_workspace(workspace: str, **options: Any) -> None:
    """Register the deployments and run their flows until interrupted (blocks)."""
    from prefect import serve

    serve(*serve_deployments(workspace, **options))
