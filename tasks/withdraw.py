from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import withdraw_items
from al_core.queues import LabelStudioError
from tasks.common import open_ws, workspace_queue


@task(name="withdraw-items", cache_policy=NO_CACHE)
def withdraw(workspace: str) -> dict[str, Any]:
    """Take back unanswered items that are no longer wanted (loop stopped, labelled elsewhere).

    Not being able to reach the queue is only a warning: the next run tries again.
    """
    ws = open_ws(workspace)
    log = get_run_logger()
    try:
        done = withdraw_items(ws, workspace_queue(ws))
    except LabelStudioError as exc:
        log.warning("could not withdraw items (the next run tries again): %s", exc)
        return {"withdrawn": {}, "error": str(exc)}
    for reason, ids in done.items():
        log.info("withdrew %d items from the annotation queue: %s", len(ids), reason)
    return {"withdrawn": done, "error": None}
