"""The labelling loop on a workspace stored in S3 (a real S3-compatible server on loopback).

Everything lives in the bucket: tables, commit log, models, the queue's batches and the label
files the annotator drops into ``queue/inbox/``.
"""

import json

import pandas as pd
import pytest

from al_core.ingest import ingest_file
from al_core.storage import Location, Workspace, WorkspaceConfig
from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.integration


def test_iteration_loop_on_s3(prefect_server, s3_url, tmp_path):
    from flows.iteration import iteration_flow

    train = pd.read_parquet(TREC / "train.parquet").iloc[:200].reset_index(drop=True)
    train["id"] = [f"q{i:04d}" for i in range(len(train))]
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    pd.read_parquet(TREC / "test.parquet").iloc[:60][["text", "label"]].to_csv(
        tmp_path / "eval.csv", index=False
    )
    gold = dict(zip(train.id, train.label, strict=True))
    cfg = WorkspaceConfig(labels=TREC_LABELS)
    cfg.active_learning.classifier = "logreg"
    cfg.active_learning.batch_size = 20
    cfg.active_learning.min_new_labels = 5
    cfg.active_learning.keep_models = 2  # older weights leave the bucket too
    ws = Workspace.init(s3_url, cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")
    bucket = Location(s3_url)

    sent = []
    for round_no in range(1, 4):
        summary = iteration_flow(s3_url)
        assert summary["status"] == ("initial" if round_no == 1 else "completed")
        if round_no > 1:
            assert summary["imported"][0]["new"] == 20 and 0 <= summary["accuracy"] <= 1
        assert summary["batch"] == f"{s3_url}/queue/outbox/batch-{round_no:04d}.json"
        tasks = json.loads(bucket.read_text(f"queue/outbox/batch-{round_no:04d}.json"))
        answers = [(t["data"]["id"], gold[t["data"]["id"]]) for t in tasks]
        bucket.write_text(
            f"queue/inbox/round{round_no}.csv",
            "id,label\n" + "".join(f"{i},{lab}\n" for i, lab in answers),
        )
        sent += answers

    final = iteration_flow(s3_url)
    assert final["status"] == "completed" and final["n_labeled"] == 60
    history = Workspace.open(s3_url).query(
        "SELECT id, labels[1] AS label FROM label_events WHERE source = 'queue' ORDER BY id"
    )
    assert sorted(zip(history.id, history.label, strict=True)) == sorted(sent)
    assert bucket.is_file("models/iter-0004/meta.json")  # the model went to the bucket too
    assert final["pruned"]["models_pruned"] == ["iter-0002"]
    assert not bucket.exists("models/iter-0002/model")
    assert bucket.is_file("models/iter-0002/meta.json")
    for kept in ("iter-0003", "iter-0004"):
        assert bucket.is_file(f"models/{kept}/model/model.json")
    assert sorted(bucket.list("queue/inbox/imported")) == [f"round{k}.csv" for k in (1, 2, 3)]

    # What a cache drop killed between deleting model.json and the vectors leaves in the
    # bucket: `alflow check` finds it, `--repair` deletes it; the models in use stay.
    from al_core.pipeline.retention import check_artifacts, leftovers, remove_leftovers
    from al_core.storage.check import check_workspace

    bucket.write_bytes("embeddings/setfit-body-gone/vectors/part-0.parquet", b"half a cache")
    ws = Workspace.open(s3_url)
    assert leftovers(ws) == ["embeddings/setfit-body-gone"]
    report = check_workspace(ws)
    check_artifacts(ws, report)
    assert report.ok and report.tables["models"]["saved"] == 2
    assert [p.severity for p in report.problems if p.table == "models"] == ["warning"]
    assert remove_leftovers(ws) == ["deleted leftover embeddings/setfit-body-gone"]
    assert not bucket.exists("embeddings/setfit-body-gone") and leftovers(ws) == []
    assert bucket.is_file("models/iter-0004/model/model.json")
