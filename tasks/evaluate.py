from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import evaluate_model
from tasks.common import open_ws


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(workspace: str, model_path: str) -> dict[str, Any]:
    """Accuracy and macro-F1 on the workspace's held-out evaluation items."""
    return evaluate_model(open_ws(workspace), model_path)
