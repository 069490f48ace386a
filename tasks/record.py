from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import Plan, record_iteration
from tasks.common import open_ws, settings_from


@task(name="record-iteration", cache_policy=NO_CACHE)
def record(
    workspace: str, plan: Plan, settings: dict[str, Any], started_at: datetime, **outcome: Any
) -> dict[str, Any]:
    """Commit the iteration row, query log and stopping history in one transaction."""
    return record_iteration(
        open_ws(workspace), plan, settings_from(settings), started_at, **outcome
    )
