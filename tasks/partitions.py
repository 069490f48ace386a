"""Prefect tasks over partitions of the pool: embed the missing texts, score every item.

The flow plans the partitions, maps these tasks over them on its task runner (threads here, or
a Dask cluster's workers), and gathers the results; see :mod:`al_core.pipeline.partitions`.
Arguments are the workspace's URI, paths and JSON-able specs, never open objects, since a Dask
worker receives them pickled.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import partitions
from al_core.pipeline.model import load_model
from tasks.common import open_ws


@task(name="plan-embedding", cache_policy=NO_CACHE)
def plan_embedding(workspace: str, embedder: str | None) -> list[dict[str, Any]]:
    """Partitions of the pool's texts that the embedding cache lacks."""
    return partitions.plan_embedding(open_ws(workspace), embedder)


@task(name="embed-partition", cache_policy=NO_CACHE)
def embed_partition(workspace: str, spec: dict[str, Any], progress: bool = False) -> dict:
    """Embed one partition's missing texts and append them to the cache."""
    return partitions.embed_partition(workspace, spec, progress)


@task(name="plan-scoring", cache_policy=NO_CACHE)
def plan_scoring(workspace: str, model_path: str, rows: int) -> list[dict[str, Any]]:
    """Partitions covering every item the model can score."""
    return partitions.plan_scoring(open_ws(workspace), load_model(model_path), rows)


@task(name="score-partition", cache_policy=NO_CACHE)
def score_partition(
    workspace: str, model_path: str, strategy: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """The strategy's score and the predicted class of every row of one partition."""
    return partitions.score_partition(workspace, model_path, strategy, spec)
