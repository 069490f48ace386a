"""Features, training, evaluation and prediction for a workspace.

A trained model is the directory ``models/iter-NNNN/model/`` (built in a hidden folder, then
renamed into place), with no pickle anywhere, so opening someone else's workspace never runs
their code:

* ``model.json``: format tag, version, classifier spec, embedder name, label names;
* ``classifier/``: the classifier (:meth:`al_core.classifiers.Classifier.save`: JSON, skops,
  safetensors);
* ``embedder/``: the fitted TF-IDF vectorizer (JSON + ``.npy``) when the embedder is fitted on
  the corpus; pretrained embedders are rebuilt from their name (vectors come from the
  workspace's embedding cache); classifiers that read texts have no embedder.

``meta.json`` beside it says what was trained on what. A classifier that is built to be
refitted (``wants_reuse``: SetFit, or ``warm_start=true`` in a transformer spec) starts from the
previous iteration's saved model of the same spec (warm start).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
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
from al_core.pipeline.state import candidate_items, labelled_items
from al_core.registry import make_classifier, make_embedder
from al_core.storage import Workspace, atomic_write_json

MODEL_FORMAT = "alflow.model"
MODEL_FORMAT_VERSION = 2


@dataclass
class TrainedModel:
    version: str
    embedder_name: str | None  # None: the classifier reads texts
    embedder: Any  # fitted embedder (non-cacheable), a fresh pretrained one, or None
    classifier: Any
    label_set: LabelSet

    def features(self, ws: Workspace, items: pd.DataFrame, progress: bool = False) -> Features:
        return item_features(
            ws, self.embedder, items, progress=progress, classifier=self.classifier
        )

    def predict_labels(self, X: Features) -> list[list[str]]:
        pred = self.classifier.predict(X)
        if self.label_set.multi_label:
            return [[self.label_set.names[j] for j in np.flatnonzero(r)] for r in pred]
        return [[self.label_set.names[int(i)]] for i in pred]


def item_features(
    ws: Workspace,
    embedder: Any,
    items: pd.DataFrame,
    progress: bool = False,
    classifier: Any = None,
) -> Features:
    """Features of ``items`` (id, text, content_hash): cached vectors, a fitted transform, or
    the texts themselves when there is no embedder (a classifier that reads texts).

    A ``classifier`` that reads texts with an encoder of its own (``text_encoder()``: SetFit's
    fine-tuned body) gets that encoder's vectors of ``items`` from the embedding cache, computed
    and stored for the texts it lacks, through ``remember``: a later process with the same
    body (a head-only refit, the next step's model load) then encodes none of them again.
    """
    texts = items["text"].tolist()
    if embedder is None:
        encoder = getattr(classifier, "text_encoder", lambda: None)()
        if encoder is not None and texts:
            cache = EmbeddingCache(ws.location.child("embeddings"))
            vectors = cache.get_or_compute(
                encoder, texts, items["content_hash"].tolist(), progress=progress
            )
            classifier.remember(texts, vectors)
        return texts
    if getattr(embedder, "cacheable", False):
        cache = EmbeddingCache(ws.location.child("embeddings"))
        return cache.get_or_compute(
            embedder, texts, items["content_hash"].tolist(), progress=progress
        )
    return embedder.transform(texts)


def ensure_embeddings(ws: Workspace, embedder_name: str | None, progress: bool = False) -> dict:
    """Embed every pool and eval item not yet in the cache (a no-op for fitted embedders and
    for classifiers that read texts, ``embedder_name=None``).

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
    ws: Workspace, iteration: int, *, classifier: str, embedder: str | None, seed: int = 0
) -> Path:
    """Train on every labelled pool item; save and return the model directory's path."""
    label_set = ws.config.label_set
    items = labelled_items(ws)
    if items.empty:
        raise ValueError("there are no labelled items to train on")
    from al_core.pipeline.fitted import fitted_embedder

    # Fitted embedders (TF-IDF) are fitted on the training pool once per pool version.
    emb = None if embedder is None else fitted_embedder(ws, embedder)
    y = encode_targets(label_set, items["labels"])
    clf = make_classifier(classifier, len(label_set), label_set.multi_label, seed=seed)
    warm_from = _previous_model(ws, iteration, classifier) if clf.wants_reuse else None
    if warm_from is not None:
        clf = load_model(warm_from).classifier
    X = item_features(ws, emb, items, classifier=clf)
    kwargs = {}
    if clf.uses_unlabeled:  # semi-supervised: the pool without labels helps
        kwargs["unlabeled"] = item_features(ws, emb, candidate_items(ws))
    started = time.perf_counter()
    with single_thread_blas():
        clf.fit(X, y, **kwargs)
    train_seconds = time.perf_counter() - started
    digest = hashlib.sha256(
        "\n".join(
            f"{i}\t{'|'.join(ls)}" for i, ls in zip(items.id, items.labels, strict=True)
        ).encode()
    ).hexdigest()[:8]
    base_name = classifier.split(":", 1)[0]
    version = f"iter-{iteration:04d}-{base_name}-{digest}"
    out = model_dir(ws, iteration)
    path = _save_model(out / "model", clf, emb, embedder, classifier, version, label_set)
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
            "warm_start_from": None
            if warm_from is None
            else f"models/{warm_from.parent.name}/model",
            "train_info": getattr(clf, "train_info_", None),
        },
    )
    publish_model_dir(ws, iteration)
    return path


def _previous_model(ws: Workspace, iteration: int, classifier: str) -> Path | None:
    """The newest saved model of an earlier iteration trained with the same classifier spec."""
    for folder in sorted(model_dir(ws, 0).parent.glob("iter-*"), reverse=True):
        meta_path = folder / "meta.json"
        if folder.name >= f"iter-{iteration:04d}" or not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        if meta.get("classifier") == classifier and (folder / "model").is_dir():
            return folder / "model"
    return None


def _save_model(
    path: Path,
    clf: Any,
    emb: Any,
    embedder: str | None,
    classifier: str,
    version: str,
    label_set: LabelSet,
) -> Path:
    """Write the model directory next to ``path`` and rename it into place (atomic)."""
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        clf.save(tmp / "classifier")
        if emb is not None and not emb.cacheable:
            emb.save(tmp / "embedder")
        atomic_write_json(
            tmp / "model.json",
            {
                "format": MODEL_FORMAT,
                "version": MODEL_FORMAT_VERSION,
                "model_version": version,
                "classifier": classifier,
                "embedder": embedder,
                "labels": list(label_set.names),
                "multi_label": label_set.multi_label,
            },
        )
        if path.exists():  # a re-run of the same iteration replaces its model
            old = path.parent / f".old-{uuid.uuid4().hex}"
            os.replace(path, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load_model(path: str | Path) -> TrainedModel:
    """Load a model saved by :func:`train_model` (its directory); runs no code from the files."""
    from al_core.classifiers import Classifier, UnsafeArtifactError
    from al_core.embeddings import TfidfEmbedder

    path = Path(path)
    if path.is_file() and path.suffix == ".pkl":
        raise UnsafeArtifactError(
            f"{path} is a pickled model of an older alflow; pickles are not loaded (they can run "
            "code). Retrain with `alflow iterate --force`."
        )
    manifest = json.loads((path / "model.json").read_text(encoding="utf-8"))
    if manifest.get("format") != MODEL_FORMAT or manifest.get("version") != MODEL_FORMAT_VERSION:
        raise UnsafeArtifactError(f"{path} is not an alflow model directory of this version")
    name = manifest["embedder"]
    if name is None:
        embedder = None
    elif (path / "embedder").is_dir():
        embedder = TfidfEmbedder.load(path / "embedder")
    else:
        embedder = make_embedder(name)
    return TrainedModel(
        version=manifest["model_version"],
        embedder_name=name,
        embedder=embedder,
        classifier=Classifier.load(path / "classifier"),
        label_set=LabelSet(manifest["labels"], bool(manifest["multi_label"])),
    )


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
        "macro_f1": float(macro_f1(y, pred, len(model.label_set))),
    }


def read_meta(model_path: str | Path) -> dict[str, Any]:
    """``meta.json`` of the iteration a model directory belongs to."""
    return json.loads((Path(model_path).parent / "meta.json").read_text())
