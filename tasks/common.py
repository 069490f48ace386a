"""Shared helpers of the tasks."""

from __future__ import annotations

from typing import Any

from al_core.queues import AnnotationQueue
from al_core.storage import ActiveLearningSettings, Workspace


def open_ws(workspace: str) -> Workspace:
    """The workspace, opened without the crash-recovery check: the flow opened it (and
    repaired it) when it started, and a task that writes repairs under the writer lock."""
    return Workspace.open(workspace, recover=False)


def settings_from(data: dict[str, Any]) -> ActiveLearningSettings:
    return ActiveLearningSettings(**data)


def prefect_secret(name: str) -> str:
    """The value of the Prefect Secret block ``name`` (where a Label Studio token may live)."""
    from prefect.blocks.system import Secret

    return str(Secret.load(name).get())


def workspace_queue(ws: Workspace) -> AnnotationQueue:
    """The workspace's annotation queue, able to read its token from a Prefect Secret block."""
    from al_core.pipeline import queue_for

    return queue_for(ws, prefect_secret)
