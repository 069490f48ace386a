"""Embedders fitted on the pool (TF-IDF), fitted once per version of the pool.

An embedder that is not cacheable learns from the corpus (TF-IDF's vocabulary and document
frequencies are unsupervised: they use every pool text, labelled or not). It used to be
refitted on the whole pool at every training, though the pool only changes when something is
ingested. It is now fitted once per version of the ``pool`` table and kept, pickled, in the
workspace's local cache folder (``models/fitted/<name>-pool-v<version>.pkl``); a later ingest makes a
new version and so a new fit. The result is the same embedder the refit would give.
"""

from __future__ import annotations

import pickle
from typing import Any

from al_core.registry import make_embedder
from al_core.storage import Workspace, atomic_write_bytes


def fitted_embedder(ws: Workspace, name: str) -> Any:
    """The embedder ``name``: fresh when pretrained, else fitted on the pool's current texts."""
    embedder = make_embedder(name)
    if embedder.cacheable:
        return embedder
    version = ws.snapshot().versions.get("pool", -1)
    folder = ws.location.cache_dir() / "models" / "fitted"
    path = folder / f"{name}-pool-v{version}.pkl"
    if path.is_file():
        try:
            return pickle.loads(path.read_bytes())  # written by this function, in this workspace
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # unreadable (another alflow version): fit again
    embedder.fit(ws.query("SELECT text FROM pool ORDER BY id").text.tolist())
    atomic_write_bytes(path, pickle.dumps(embedder))
    for old in folder.glob(f"{name}-pool-v*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)
    return embedder
