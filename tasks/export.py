from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import batch_id_for, export_selection
from al_core.queues import LabelStudioError
from tasks.common import open_ws, prefect_secret


@task(name="export-batch", cache_policy=NO_CACHE)
def export_batch(workspace: str, iteration: int, selection_path: str) -> dict[str, Any]:
    """Send the batch to the annotation queue; ``where`` it went, or the queue's ``error``.

    The batch is recorded in the workspace before it is sent, so when the queue cannot be
    reached it is not lost: the next run sends what is missing.
    """
    try:
        where = export_selection(open_ws(workspace), iteration, selection_path, prefect_secret)
    except LabelStudioError as exc:
        message = (
            f"{exc}; batch {batch_id_for(iteration)} is kept in the workspace (queue/outbox) "
            "and the next run sends it"
        )
        return {"where": None, "error": message}
    return {"where": where, "error": None}
