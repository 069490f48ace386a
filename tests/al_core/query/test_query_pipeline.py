"""The workspace pipeline (what ``alflow iterate`` runs) with the new strategies and the
cold-start initializers: real MiniLM vectors through the workspace's embedding cache and
embedding-logreg, on one small TREC-6 workspace (60 texts, 18 labelled at ingest)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.slow

STRATEGIES = ["badge", "seals", "prob-cover", "typiclust", "contrastive-active-learning"]


@pytest.fixture(scope="module")
def trec_ws(tmp_path_factory):
    """One workspace for the module (ingest runs the great-expectations checks)."""
    from al_core.ingest import ingest_file
    from al_core.storage import Workspace, WorkspaceConfig

    tmp = tmp_path_factory.mktemp("query-pipeline")
    ws = Workspace.init(tmp / "ws", WorkspaceConfig(labels=list(TREC_LABELS)))
    rows = pd.read_parquet(TREC / "train.parquet").head(60)[["text", "label"]].copy()
    rows.loc[rows.index[18:], "label"] = ""  # 18 labelled items, 42 candidates
    rows.to_csv(tmp / "pool.csv", index=False)
    ingest_file(ws, tmp / "pool.csv", label_column="label")
    return ws


def test_first_batch_with_typiclust_uses_cached_embeddings(trec_ws) -> None:
    from al_core.pipeline import resolve_settings, select_batch
    from al_core.pipeline.state import candidate_items

    settings = resolve_settings(
        trec_ws, classifier="embedding-logreg", initializer="typiclust", batch_size=5
    )
    out = json.loads(select_batch(trec_ws, 1, None, settings).read_text())
    ids = [item["id"] for item in out["items"]]
    assert out["strategy"] == "init:typiclust" and len(set(ids)) == 5
    assert set(ids) <= set(candidate_items(trec_ws).id)
    assert any((trec_ws.path / "embeddings").rglob("*")), "embeddings were not cached"


def test_first_batch_with_a_fitted_embedder_fails_clearly(trec_ws) -> None:
    from al_core.errors import ConfigError
    from al_core.pipeline import resolve_settings, select_batch

    settings = resolve_settings(
        trec_ws, classifier="logreg", embedder="tfidf", initializer="embedding-kmeans"
    )
    with pytest.raises(ConfigError, match="needs dense embeddings"):
        select_batch(trec_ws, 1, None, settings)


def test_queries_with_embedding_and_index_strategies(trec_ws) -> None:
    from al_core.pipeline import resolve_settings, select_batch, train_model
    from al_core.pipeline.state import candidate_items

    model = train_model(trec_ws, 2, classifier="embedding-logreg", embedder="minilm")
    candidates = set(candidate_items(trec_ws).id)
    assert len(candidates) == 42
    for name in STRATEGIES:
        settings = resolve_settings(
            trec_ws, classifier="embedding-logreg", strategy=name, batch_size=5
        )
        out = json.loads(select_batch(trec_ws, 2, model, settings).read_text())
        ids = [item["id"] for item in out["items"]]
        assert out["strategy"] == name and len(set(ids)) == 5, name
        assert set(ids) <= candidates, name
