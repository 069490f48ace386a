from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import prune_models
from tasks.common import open_ws


@task(name="prune-models", cache_policy=NO_CACHE)
def prune(workspace: str, keep: int) -> dict[str, Any]:
    """Delete the weights of all but the newest ``keep`` models (the ``keep_models`` setting)."""
    result = prune_models(open_ws(workspace), keep)
    if result["models_pruned"] or result["caches_dropped"]:
        get_run_logger().info(
            "pruned %d old models and %d body-vector caches (%.1f MB)",
            len(result["models_pruned"]),
            len(result["caches_dropped"]),
            result["bytes_freed"] / 1e6,
        )
    return result
