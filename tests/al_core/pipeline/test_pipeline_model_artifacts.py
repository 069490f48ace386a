"""Model artifacts of the pipeline: no pickle, texts classifiers, warm start, versions."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from al_core.classifiers import UnsafeArtifactError
from al_core.pipeline import evaluate_model, load_model, resolve_settings, select_batch, train_model
from al_core.pipeline.model import read_meta
from tests.al_core.classifiers.tiny_models import build_tiny_model
from tests.al_core.pipeline.conftest import POOL_IDS, topic_of
from tests.al_core.pipeline.test_pipeline_steps import answer


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from tests.al_core.pipeline.conftest import WORDS

    corpus = [" ".join(words) for words in WORDS.values()] * 20
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), corpus, vocab_size=120)


def test_the_model_directory_loads_without_pickle(pool_ws, write_csv, monkeypatch):
    answer(pool_ws, write_csv, topic_of, POOL_IDS[:12])
    path = train_model(pool_ws, 2, classifier="logreg", embedder="tfidf")
    assert path.is_dir() and (path / "embedder" / "idf.npy").is_file()
    suffixes = {p.suffix for p in path.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".npy", ".skops"}

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    model = load_model(path)
    assert model.version == read_meta(path)["version"]
    assert evaluate_model(pool_ws, path)["n_eval"] == 9


def test_a_legacy_pickled_model_is_refused(tmp_path):
    legacy = tmp_path / "model.pkl"
    legacy.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(UnsafeArtifactError, match="pickle"):
        load_model(legacy)


def test_a_hostile_classifier_name_is_refused(pool_ws, write_csv):
    answer(pool_ws, write_csv, topic_of, POOL_IDS[:9])
    path = train_model(pool_ws, 2, classifier="logreg", embedder="tfidf")
    manifest = path / "classifier" / "classifier.json"
    data = json.loads(manifest.read_text())
    data["name"] = "os.system"
    manifest.write_text(json.dumps(data))
    with pytest.raises(UnsafeArtifactError, match="unknown classifier"):
        load_model(path)


def test_a_texts_classifier_trains_selects_and_warm_starts_in_the_pipeline(
    pool_ws, write_csv, tiny_dir
):
    spec = f"setfit:model={tiny_dir},num_iterations=2,max_pairs=40,num_threads=1"
    settings = resolve_settings(pool_ws, classifier=spec, embedder=None)
    assert settings.embedder is None  # texts classifiers need no embedder
    answer(pool_ws, write_csv, topic_of, POOL_IDS[:9])
    first = train_model(pool_ws, 2, classifier=spec, embedder=None)
    assert not (first / "embedder").exists()
    assert read_meta(first)["warm_start_from"] is None
    assert read_meta(first)["version"].startswith("iter-0002-setfit-")
    selection = json.loads(select_batch(pool_ws, 2, first, settings).read_text())
    assert len(selection["items"]) == settings.batch_size
    assert selection["model_version"] == read_meta(first)["version"]
    assert 0 <= evaluate_model(pool_ws, first)["accuracy"] <= 1

    answer(pool_ws, write_csv, topic_of, POOL_IDS[9:13])
    second = train_model(pool_ws, 3, classifier=spec, embedder=None)
    meta = read_meta(second)
    assert meta["warm_start_from"] == "models/iter-0002/model"
    # 13 labels < 2 x 9: SetFit's schedule refits only the head on the warm body.
    assert meta["train_info"]["body_trained"] is False
    proba = load_model(second).classifier.predict_proba(["goal match team score"])
    assert proba.shape == (1, 3) and np.isclose(proba.sum(), 1.0)


def test_a_head_only_round_reads_the_bodys_vectors_from_the_workspace_cache(
    pool_ws, write_csv, tiny_dir
):
    from al_core.embeddings import EmbeddingCache
    from al_core.pipeline.state import candidate_items

    spec = f"setfit:model={tiny_dir},num_iterations=2,max_pairs=40,num_threads=1"
    settings = resolve_settings(pool_ws, classifier=spec, embedder=None)
    cache = EmbeddingCache(pool_ws.location.child("embeddings"))
    answer(pool_ws, write_csv, topic_of, POOL_IDS[:9])
    first = train_model(pool_ws, 2, classifier=spec, embedder=None)
    version = load_model(first).classifier.body_version_
    model_id = f"setfit-body-{version}"
    select_batch(pool_ws, 2, first, settings)
    evaluate_model(pool_ws, first)
    # Scoring and evaluation stored the fine-tuned body's vectors of what they predicted.
    stored = cache.count(model_id)
    assert stored >= len(candidate_items(pool_ws)) + 9  # the pool's candidates and eval items

    answer(pool_ws, write_csv, topic_of, POOL_IDS[9:13])
    second = train_model(pool_ws, 3, classifier=spec, embedder=None)
    assert read_meta(second)["train_info"]["body_trained"] is False
    model = load_model(second)
    assert model.classifier.body_version_ == version
    selection = json.loads(select_batch(pool_ws, 3, second, settings).read_text())
    evaluate_model(pool_ws, second)
    assert cache.count(model_id) == stored  # every text was found: none encoded and stored
    assert cache.model_ids() == [model_id]

    # The cached vectors give the predictions that encoding the texts again gives.
    items = candidate_items(pool_ws).head(5)
    via_cache = model.classifier.predict_proba(model.features(pool_ws, items))
    fresh = load_model(second).classifier.predict_proba(items["text"].tolist())
    np.testing.assert_allclose(via_cache, fresh, atol=1e-5)
    assert model.classifier._body is None  # every vector came from the cache: no weights read
    assert len(selection["items"]) == settings.batch_size


def test_an_embedder_for_a_texts_classifier_is_a_config_error(pool_ws):
    from al_core.errors import ConfigError

    with pytest.raises(ConfigError, match="reads texts"):
        resolve_settings(pool_ws, classifier="transformer", embedder="tfidf")
