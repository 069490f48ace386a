"""Pruning old models, so that a long-running loop does not fill the disk.

Every iteration saves its model in ``models/iter-NNNN/model/`` (SetFit: about 90 MB of body
weights each round), and every SetFit body fine-tune adds the pool's vectors under that body's
version to the embedding cache (:func:`al_core.classifiers.setfit.body_cache_id`). The loop
itself needs only the newest model: the next warm start, the export and the stopping step read
it. :func:`prune_models` deletes the weights of all but the newest ``keep`` models of recorded
iterations and then the cached vectors of fine-tuned bodies that no remaining model holds. Each iteration's
``meta.json`` (what was trained on what) and ``selection.json`` (what it chose) stay: they are
the audit trail, and an old batch can still be exported (without confidences).

A model folder is first renamed to a hidden name, then removed, so an interrupted prune never
leaves a half-deleted model that a warm start would try to load; leftovers go with the next
prune. The caller holds the workspace's run lock (``alflow compact``, or the iteration flow
itself when ``keep_models`` is set), so no iteration reads a model while it goes.

``alflow check`` reports the saved models' disk use and what an interrupted save, prune or
cache drop left behind (:func:`check_artifacts`); ``alflow check --repair`` deletes those
leftovers (:func:`remove_leftovers`), also under the run lock.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from al_core.classifiers.persistence import MANIFEST
from al_core.classifiers.setfit import BodyEncoder, body_cache_id
from al_core.embeddings import EmbeddingCache
from al_core.errors import WorkspaceError
from al_core.pipeline.model import model_dir
from al_core.pipeline.state import loop_state
from al_core.storage import Workspace
from al_core.storage.check import CheckReport

_FOLDER = re.compile(r"iter-\d{4,}")
#: Hidden folders an interrupted model save (:func:`al_core.pipeline.model._save_model`) or
#: prune leaves in an iteration folder.
_LEFTOVERS = (".tmp-*", ".old-*", ".pruned-*")


def prune_models(ws: Workspace, keep: int) -> dict[str, Any]:
    """Delete the weights of all but the newest ``keep`` saved models (``keep`` >= 1) and the
    body-vector caches no kept model uses; return what went and the bytes freed."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the newest model is the loop's), got {keep}")
    root = model_dir(ws, 0).parent
    folders = _saved(root)
    # An iteration not recorded yet (running, crashed or failed) keeps its model and does not
    # count: its re-run warm-starts from the last recorded one, which must stay.
    recorded = loop_state(ws).next_iteration
    saved = [f for f in folders if int(f.name[5:]) < recorded]
    doomed, kept = saved[:-keep], saved[-keep:]
    freed = 0
    for folder in doomed:
        hidden = folder / f".pruned-{uuid.uuid4().hex[:8]}"
        (folder / "model").rename(hidden)
        freed += _size(hidden)
        if ws.location.remote:
            ws.location.delete_dir(f"models/{folder.name}/model")
    for leftover in root.glob("iter-*/.pruned-*"):
        shutil.rmtree(leftover, ignore_errors=True)

    remaining = [f for f in folders if f not in doomed]
    in_use = {body_cache_id(v) for v in map(_body_version, remaining) if v}
    cache = EmbeddingCache(ws.location.child("embeddings"))
    dropped = []
    for model_id in cache.model_ids():
        if cache.embedder_name(model_id) == BodyEncoder.name and model_id not in in_use:
            if not ws.location.remote:
                freed += _size(cache.model_dir(model_id))
            cache.drop(model_id)
            dropped.append(model_id)
    return {
        "models_pruned": [f.name for f in doomed],
        "models_kept": [f.name for f in kept],
        "caches_dropped": dropped,
        "bytes_freed": freed,
    }


def check_artifacts(ws: Workspace, report: CheckReport) -> None:
    """Add the saved models' disk use and any leftovers of an interrupted model save, prune or
    cache drop to ``alflow check``'s report (a warning: the loop never reads them)."""
    root = model_dir(ws, 0).parent
    folders = _saved(root)
    size = sum(_size(f / "model") for f in folders)
    report.tables["models"] = {"saved": len(folders), "megabytes": round(size / 1e6, 1)}
    try:
        with ws.run_lock("a check"):  # a running iteration's half-saved model is no leftover
            left = leftovers(ws)
    except WorkspaceError:
        report.add("note", "models", "an iteration is running: leftovers not looked for")
        return
    if left:
        shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        report.add(
            "warning",
            "models",
            f"{len(left)} leftover(s) of an interrupted model save, prune or cache drop: {shown}",
            "delete them",
        )


def leftovers(ws: Workspace) -> list[str]:
    """Workspace keys of what an interrupted model save (``.tmp-*``, ``.old-*``), model prune
    (``.pruned-*``) or embedding-cache drop left behind. Only meaningful while no iteration
    runs."""
    cache = EmbeddingCache(ws.location.child("embeddings"))
    return _keys(_model_leftovers(ws), cache.leftovers())


def remove_leftovers(ws: Workspace) -> list[str]:
    """Delete what :func:`leftovers` lists, under the run lock; one line per action (nothing is
    deleted while an iteration runs)."""
    try:
        with ws.run_lock("a repair"):
            models = _model_leftovers(ws)
            for folder in models:
                shutil.rmtree(folder, ignore_errors=True)
            caches = EmbeddingCache(ws.location.child("embeddings")).remove_leftovers()
    except WorkspaceError:  # check_artifacts says that an iteration is running
        return []
    return [f"deleted leftover {key}" for key in _keys(models, caches)]


def _model_leftovers(ws: Workspace) -> list[Path]:
    root = model_dir(ws, 0).parent
    return [p for pattern in _LEFTOVERS for p in root.glob(f"iter-*/{pattern}")]


def _keys(model_folders: list[Path], cache_slugs: list[str]) -> list[str]:
    """Workspace keys of leftover model folders and embedding-cache folders, sorted."""
    found = [f"models/{p.parent.name}/{p.name}" for p in model_folders]
    return sorted(found + [f"embeddings/{slug}" for slug in cache_slugs])


def _saved(root: Path) -> list[Path]:
    """Iteration folders under ``root`` that hold a saved model, oldest first."""
    return sorted(
        f for f in root.glob("iter-*") if _FOLDER.fullmatch(f.name) and (f / "model").is_dir()
    )


def _body_version(iteration_folder: Path) -> str | None:
    """The fine-tuned body version a saved model's classifier reads (None: none, or not
    SetFit)."""
    manifest = json.loads((iteration_folder / "model" / "classifier" / MANIFEST).read_text())
    return (manifest.get("state") or {}).get("body_version")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
