from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.ingest import ingest_file
from tasks.common import open_ws


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(workspace: str, source: str, **options: Any) -> dict[str, Any]:
    """Validate and store a file's rows (see :func:`al_core.ingest.ingest_file`)."""
    return ingest_file(open_ws(workspace), source, **options).to_dict()
