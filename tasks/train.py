from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.pipeline import train_model
from tasks.common import open_ws


@task(name="train", cache_policy=NO_CACHE)
def train(workspace: str, iteration: int, settings: dict[str, Any]) -> str:
    """Train on every labelled item; returns the saved model's path."""
    path = train_model(
        open_ws(workspace),
        iteration,
        classifier=settings["classifier"],
        embedder=settings["embedder"],
        seed=settings["seed"],
    )
    return str(path)
