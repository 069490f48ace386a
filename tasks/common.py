"""Shared helpers of the tasks."""

from __future__ import annotations

from typing import Any

from al_core.storage import ActiveLearningSettings, Workspace


def open_ws(workspace: str) -> Workspace:
    return Workspace.open(workspace)


def settings_from(data: dict[str, Any]) -> ActiveLearningSettings:
    return ActiveLearningSettings(**data)
