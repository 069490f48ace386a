"""Features, training, evaluation and prediction for a workspace.

A trained model is saved as ``models/iter-NNNN/model.pkl`` (written atomically) holding the
classifier, the fitted embedder when it is fitted on the corpus (TF-IDF) or just the embedder's
name when it is pretrained (its vectors come from the workspace's embedding cache), and the
label names. ``meta.json`` beside it says what was trained on what.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.device import single_thread_blas
from al_core.embeddings import EmbeddingCache
from al_core.features import Features
from al_core.labels import LabelSet
from al_core.metrics import accuracy, macro_f1
from al_core.pipeline.state import labelled_items
from al_core.registry import make_classifier, make_embedder
from al_core.storage import Workspace, atomic_write_bytes, atomic_write_json


@dataclass
class TrainedModel:
    version: str
    embedder_name: str
    embedder: Any  # fitted embedder (non-cacheable) or a fresh pretrained one
    classifier: Any
    label_set: LabelSet

    def features(self, ws: Workspace, items: pd.DataFrame, progress: bool = False) -> Features:
        return item_features(ws, self.embedder, items, progress=progress)

    def predict_labels(self, X: Features) -> list[list[str]]:
        pred = self.classifier.predict(X)
        if self.label_set.multi_label:
            return [[self.label_set.names[j] for j in np.flatnonzero(r)] for r in pred]
        return [[self.label_set.names[int(i)]] for i in pred]


def item_features(
    ws: Workspace, embedder: Any, items: pd.DataFrame, progress: bool = False
) -> Features:
    """Features of ``items`` (id, text, content_hash): cached vectors or a fitted transform."""
    texts = items["text"].tolist()
    if getattr(embedder, "cacheable", False):
        cache = EmbeddingCache(ws.location.child("embeddings"))
        return cache.get_or_compute(
            embedder, texts, items["content_hash"].tolist(), progress=progress
        )
    return embedder.transform(texts)


def ensure_embeddings(ws: Workspace, embedder_name: str, progress: bool = False) -> dict:
    """Embed every pool and eval item not yet in the cache (a no-op for fitted embedders).

    Runs the partitions of :func:`al_core.pipeline.partitions.plan_embedding` here, one after
    the other; the iteration flow maps them over its task runner instead.
    """
    from al_core.pipeline.partitions import embed_partition, plan_embedding, summarize_embedding

    started = time.perf_counter()
    specs = plan_embedding(ws, embedder_name)
    results = [embed_partition(ws.uri, spec, progress) for spec in specs]
    return summarize_embedding(embedder_name, results, time.perf_counter() - started)


def encode_targets(label_set: LabelSet, labels: pd.Series) -> np.ndarray:
    return label_set.encode([list(v) if label_set.multi_label else v[0] for v in labels])


def model_dir(ws: Workspace, iteration: int) -> Path:
    """The local folder of iteration ``iteration``'s model and selection.

    For an object-store workspace this is a local working copy; :func:`publish_model_dir`
    uploads it.
    """
    return ws.location.cache_dir() / "models" / f"iter-{iteration:04d}"


def publish_model_dir(ws: Workspace, iteration: int) -> None:
    """Copy the model folder to an object-store workspace (local workspaces: nothing to do)."""
    if ws.location.remote:
        ws.location.upload_dir(model_dir(ws, iteration), f"models/iter-{iteration:04d}")


def train_model(
    ws: Workspace, iteration: int, *, classifier: str, embedder: str, seed: int = 0
) -> Path:
    """Train on every labelled pool item; save and return the model file's path."""
    label_set = ws.config.label_set
    items = labelled_items(ws)
    if items.empty:
        raise ValueError("there are no labelled items to train on")
    from al_core.pipeline.fitted import fitted_embedder

    emb = fitted_embedder(ws, embedder)  # fitted on all pool texts once per pool version
    X = item_features(ws, emb, items)
    y = encode_targets(label_set, items["labels"])
    started = time.perf_counter()
    clf = make_classifier(classifier, len(label_set), label_set.multi_label, seed=seed)
    with single_thread_blas():
        clf.fit(X, y)
    train_seconds = time.perf_counter() - started
    digest = hashlib.sha256(
        "\n".join(
            f"{i}\t{'|'.join(ls)}" for i, ls in zip(items.id, items.labels, strict=True)
        ).encode()
    ).hexdigest()[:8]
    version = f"iter-{iteration:04d}-{classifier}-{digest}"
    model = TrainedModel(
        version=version,
        embedder_name=embedder,
        embedder=None if emb.cacheable else emb,
        classifier=clf,
        label_set=label_set,
    )
    out = model_dir(ws, iteration)
    atomic_write_bytes(out / "model.pkl", pickle.dumps(model))
    atomic_write_json(
        out / "meta.json",
        {
            "version": version,
            "iteration": iteration,
            "classifier": classifier,
            "embedder": embedder,
            "n_labeled": len(items),
            "labels": list(label_set.names),
            "train_seconds": round(train_seconds, 3),
        },
    )
    publish_model_dir(ws, iteration)
    return out / "model.pkl"


def load_model(path: str | Path) -> TrainedModel:
    """Load a model saved by :func:`train_model` (a trusted file of this workspace)."""
    model: TrainedModel = pickle.loads(Path(path).read_bytes())
    if model.embedder is None:
        model.embedder = make_embedder(model.embedder_name)
    return model


def evaluate_model(ws: Workspace, model_path: str | Path) -> dict[str, Any]:
    """Accuracy and macro-F1 on the labelled evaluation items (``role = 'eval'``)."""
    items = labelled_items(ws, role="eval")
    if items.empty:
        return {"n_eval": 0, "accuracy": None, "macro_f1": None}
    model = load_model(model_path)
    X = model.features(ws, items)
    y = encode_targets(model.label_set, items["labels"])
    pred = model.classifier.predict(X)
    return {
        "n_eval": len(items),
        "accuracy": float(accuracy(y, pred)),
        "macro_f1": float(macro_f1(y, pred)),
    }


def read_meta(model_path: str | Path) -> dict[str, Any]:
    return json.loads((Path(model_path).parent / "meta.json").read_text())
