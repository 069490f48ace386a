"""Embedders fitted on the pool (TF-IDF), fitted once per version of the pool.

An embedder that is not cacheable learns from the corpus (TF-IDF's vocabulary and document
frequencies are unsupervised: they use every pool text, labelled or not). It used to be
refitted on the whole pool at every training, though the pool only changes when something is
ingested. It is now fitted once per version of the ``pool`` table and kept in its no-pickle
form (the embedder's own ``save``/``load``) in the workspace's local cache folder
(``models/fitted/<name>-pool-v<version>/``); a later ingest makes a new version and so a new
fit. The result is the same embedder the refit would give. Only training-pool texts are used,
never evaluation items.
"""

from __future__ import annotations

import shutil
import uuid
from typing import Any

from al_core.registry import make_embedder
from al_core.storage import Workspace


def fitted_embedder(ws: Workspace, name: str) -> Any:
    """The embedder ``name``: fresh when pretrained, else fitted on the pool's current texts."""
    embedder = make_embedder(name)
    if embedder.cacheable:
        return embedder
    version = ws.snapshot().versions.get("pool", -1)
    folder = ws.location.cache_dir() / "models" / "fitted"
    path = folder / f"{name}-pool-v{version}"
    if path.is_dir():
        try:
            return type(embedder).load(path)
        except (OSError, ValueError, KeyError):
            pass  # unreadable (written by another alflow version): fit again
    embedder.fit(ws.query("SELECT text FROM pool WHERE role = 'pool' ORDER BY id").text.tolist())
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    embedder.save(tmp)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    for old in folder.glob(f"{name}-pool-v*"):
        if old != path:
            shutil.rmtree(old, ignore_errors=True)
    return embedder
