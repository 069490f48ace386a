from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import import_queue, queue_for
from tasks.common import open_ws


@task(name="import-labels", cache_policy=NO_CACHE)
def import_labels(workspace: str) -> list[dict[str, Any]]:
    """Import and validate every label file waiting in the queue's inbox."""
    ws = open_ws(workspace)
    reports = import_queue(ws, queue_for(ws))
    log = get_run_logger()
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
