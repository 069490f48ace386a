from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import plan_iteration
from tasks.common import open_ws, settings_from


@task(name="plan-iteration", cache_policy=NO_CACHE)
def plan(workspace: str, settings: dict[str, Any], force: bool = False):
    """Decide whether this run exports a first batch, retrains, or waits for labels."""
    return plan_iteration(open_ws(workspace), settings_from(settings), force=force)
