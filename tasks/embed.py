from __future__ import annotations

import sys
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import ensure_embeddings
from tasks.common import open_ws


@task(name="embed", cache_policy=NO_CACHE)
def embed_pool(workspace: str, embedder: str) -> dict[str, Any]:
    """Embed pool items not yet in the workspace's embedding cache (each text once, ever)."""
    # A progress bar when a person is watching; a worker's log gets the summary instead.
    return ensure_embeddings(open_ws(workspace), embedder, progress=sys.stderr.isatty())
