from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import import_queue
from al_core.queues import LabelStudioError
from tasks.common import open_ws, workspace_queue


@task(name="import-labels", cache_policy=NO_CACHE)
def import_labels(workspace: str) -> list[dict[str, Any]]:
    """Import and validate every delivery waiting in the queue (inbox files, server labels).

    A queue that cannot be reached gives one report with ``queue_error`` set (and nothing
    else is imported from it); the flow stops there and says so.
    """
    ws = open_ws(workspace)
    log = get_run_logger()
    queue = workspace_queue(ws)
    try:
        reports = import_queue(ws, queue)
    except LabelStudioError as exc:
        return [{"source": getattr(queue, "url", "queue"), "error": str(exc), "queue_error": True}]
    for r in reports:
        if "error" in r:
            log.warning("rejected label file %s: %s", r["source"], r["error"])
        else:
            log.info(
                "imported %s: %d new, %d changed, %d unchanged, %d skipped, %d rejected",
                r["source"],
                r["new"],
                r["changed"],
                r["unchanged"],
                r["skipped"],
                r["rejected"],
            )
    return reports
