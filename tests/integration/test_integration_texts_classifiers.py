"""Classifiers that read texts through the real flows: ``alflow-simulate`` with SetFit (its
model kept between rounds) and one ``alflow-iteration`` that fine-tunes a transformer, both on
the tiny random BERT."""

from __future__ import annotations

import pandas as pd
import pytest

from al_core.ingest import ingest_file
from al_core.storage import Workspace, WorkspaceConfig
from tests.al_core.classifiers.tiny_models import build_tiny_model
from tests.conftest import TREC, TREC_LABELS
from tests.integration.test_integration_simulate_flow import write_small_trec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    corpus = pd.read_parquet(TREC / "train.parquet").text.iloc[:1000].tolist()
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), corpus)


def test_simulate_flow_runs_setfit_from_a_spec(prefect_server, tiny, tmp_path):
    from flows.simulate import simulate_flow

    train, test, _, n_test = write_small_trec(tmp_path / "data", n_train=120, n_test=40)
    spec = f"setfit:model={tiny},num_iterations=1,max_pairs=32,num_threads=1"
    summary = simulate_flow(
        train=str(train),
        test=str(test),
        strategies=["breaking-ties"],
        classifier=spec,
        initial=12,
        batch_size=6,
        iterations=2,
        seeds=1,
        out_dir=str(tmp_path / "out"),
    )
    assert summary["embedder"] == "none" and summary["classifier"] == spec
    assert [e["strategy"] for e in summary["results"]] == ["breaking-ties", "random"]
    for entry in summary["results"]:
        assert entry["labels"] == [12, 18, 24]
        assert all(0 <= a <= 1 for a in entry["accuracy"])
    assert 0 <= summary["full_data_accuracy"] <= 1


def test_iteration_flow_fine_tunes_a_transformer(prefect_server, tiny, tmp_path):
    from flows.iteration import iteration_flow

    train = pd.read_parquet(TREC / "train.parquet").iloc[:60].reset_index(drop=True)
    train["id"] = [f"q{i:03d}" for i in range(len(train))]
    train[["id", "text", "label"]].iloc[:20].to_csv(tmp_path / "labelled.csv", index=False)
    train[["id", "text"]].iloc[20:].to_csv(tmp_path / "pool.csv", index=False)
    pd.read_parquet(TREC / "test.parquet").iloc[:30][["text", "label"]].to_csv(
        tmp_path / "eval.csv", index=False
    )
    cfg = WorkspaceConfig(labels=TREC_LABELS)
    cfg.active_learning.classifier = f"transformer:model={tiny},epochs=1,min_steps=2,num_threads=1"
    cfg.active_learning.batch_size = 5
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "labelled.csv")
    ingest_file(ws, tmp_path / "pool.csv")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")

    summary = iteration_flow(str(ws.path), force=True)
    assert summary["status"] == "completed", summary["message"]
    assert summary["embedder"] is None and summary["n_queried"] == 5
    assert summary["model_version"].startswith("iter-0001-transformer-")
    assert 0 <= summary["accuracy"] <= 1
    model_dir = ws.path / "models" / "iter-0001" / "model"
    assert (model_dir / "classifier" / "model" / "model.safetensors").is_file()
