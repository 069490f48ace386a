from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import export_selection
from tasks.common import open_ws


@task(name="export-batch", cache_policy=NO_CACHE)
def export_batch(workspace: str, iteration: int, selection_path: str) -> str | None:
    """Write the batch to the annotation queue in Label Studio's task format."""
    return export_selection(open_ws(workspace), iteration, selection_path)
