"""Scoring by partitions selects exactly what the whole-pool path selects, however split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from al_core.pipeline import import_label_file, train_model
from al_core.pipeline.model import load_model
from al_core.pipeline.partitions import plan_scoring, score_partition, select_by_partitions
from al_core.pipeline.state import candidate_items, labelled_items
from al_core.registry import make_strategy


def test_partitioned_selection_equals_the_whole_pool_path(pool_ws, write_csv, truth):
    ids = candidate_items(pool_ws).id.tolist()[:12]
    import_label_file(pool_ws, write_csv("labels.csv", [(i, truth(i)) for i in ids]))
    model_path = train_model(pool_ws, 1, classifier="logreg", embedder="tfidf")
    model = load_model(model_path)
    strategy = make_strategy("breaking-ties")
    cand = candidate_items(pool_ws)
    lab = labelled_items(pool_ws)

    frame = pd.concat([lab[["id", "text", "content_hash"]], cand], ignore_index=True)
    X = model.features(pool_ws, frame)
    y = model.label_set.encode([v[0] for v in lab["labels"]])
    whole = strategy.query(
        model.classifier, X, np.arange(len(lab), len(frame)), np.arange(len(lab)), y, 10, seed=7
    )
    expected = list(zip(frame.id.iloc[whole.indices], whole.scores.tolist(), strict=True))
    # Each pick carries the probability of its predicted class (what the export shows).
    proba = model.classifier.predict_proba(X)[whole.indices]
    names = model.label_set.names

    def check_predictions(items):
        for it, row in zip(items, proba, strict=True):
            assert it["predicted"] == [names[int(np.argmax(row))]]
            assert it["confidence"] == pytest.approx(row.max(), abs=1e-9)

    for rows in (1000, 17, 5):  # one partition, four, twelve
        specs = plan_scoring(pool_ws, model, rows)
        assert len(specs) == -(-60 // rows)
        parts = [score_partition(pool_ws.uri, str(model_path), strategy.name, s) for s in specs]
        assert sum(p["rows"] for p in parts) == 60  # every pool item scored once
        got = select_by_partitions(
            pool_ws, model, str(model_path), strategy, cand.drop(columns="text"), 7, 10, parts
        )
        assert [(it["id"], it["score"]) for it in got["items"]] == expected
        check_predictions(got["items"])

    # Partitions that miss items (ingested after the plan) are completed here.
    got = select_by_partitions(
        pool_ws, model, str(model_path), strategy, cand.drop(columns="text"), 7, 10, parts[:1]
    )
    assert [(it["id"], it["score"]) for it in got["items"]] == expected
    check_predictions(got["items"])


class _CachedFake:
    """A cacheable embedder of two numbers per text (no model)."""

    name = "fake"
    cacheable = True
    model_id = "fake-v1"

    def transform(self, texts, progress=False):
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32).reshape(-1, 2)


def test_embedding_plan_covers_exactly_the_uncached_texts(pool_ws, monkeypatch):
    from al_core.embeddings import EmbeddingCache
    from al_core.pipeline import partitions

    monkeypatch.setattr(partitions, "make_embedder", lambda name: _CachedFake())
    hashes = sorted(set(pool_ws.query("SELECT content_hash FROM pool").content_hash))
    cache = partitions.cache_of(pool_ws)
    assert cache.local_files("fake-v1") is None  # nothing stored yet
    assert len(partitions.plan_embedding(pool_ws, "fake", rows=7)) == -(-len(hashes) // 7)

    cache.put("fake-v1", hashes[::3], np.ones((len(hashes[::3]), 2), dtype=np.float32))
    missing = [h for h in hashes if h not in set(hashes[::3])]
    assert cache.local_files("fake-v1")  # so the plan is one DuckDB anti-join
    specs = partitions.plan_embedding(pool_ws, "fake", rows=7)
    assert [s["low"] for s in specs] == missing[::7]
    assert [s["high"] for s in specs] == missing[7::7] + [None]
    # The Arrow path (a cache on an object store) plans the same.
    monkeypatch.setattr(EmbeddingCache, "local_files", lambda self, model_id: None)
    assert partitions.plan_embedding(pool_ws, "fake", rows=7) == specs
