from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import select_batch
from tasks.common import open_ws, settings_from


@task(name="query", cache_policy=NO_CACHE)
def select(
    workspace: str,
    iteration: int,
    model_path: str | None,
    settings: dict[str, Any],
    scores: list[dict[str, Any]] | None = None,
) -> str:
    """Choose the next batch (from partition ``scores`` when the flow mapped them); returns
    the selection file's path."""
    path = select_batch(
        open_ws(workspace), iteration, model_path, settings_from(settings), scores=scores
    )
    return str(path)
