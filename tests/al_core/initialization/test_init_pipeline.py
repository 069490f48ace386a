"""The pipeline's first batch with a cold-start initializer: embeddings of the candidates come
from the settings' embedder through the workspace's embedding cache (real MiniLM, 40 texts)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trec_ws(tmp_path_factory):
    """One workspace for the module (ingest runs the great-expectations checks)."""
    from al_core.ingest import ingest_file
    from al_core.storage import Workspace, WorkspaceConfig

    tmp_path = tmp_path_factory.mktemp("init-pipeline")
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(labels=list(TREC_LABELS)))
    src = tmp_path / "pool.csv"
    pd.read_parquet(TREC / "train.parquet").head(40)[["text"]].to_csv(src, index=False)
    ingest_file(ws, src)
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
