from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import check_stopping
from tasks.common import open_ws, settings_from


@task(name="check-stopping", cache_policy=NO_CACHE)
def check_stop(
    workspace: str, iteration: int, model_path: str, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each stopping criterion's decision, with the state to persist."""
    return check_stopping(open_ws(workspace), iteration, model_path, settings_from(settings))
