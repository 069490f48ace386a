"""The iteration flow on a two-worker Dask cluster gives exactly the local run's selection.

The cluster (``distributed.LocalCluster``, two worker processes) is started by the test; its
workers reach the session's Prefect test server through ``PREFECT_API_URL``. The cluster is
named only by the workspace's ``dask_address`` setting and the flow is called with the
workspace alone, as a deployment's scheduled run calls it. The workspace
uses TF-IDF, so scoring is split into pool partitions (``hash(id) % 3``) that each worker
transforms with the model's fitted vectorizer; the result must equal both the threaded local
run and the whole-pool scoring path, item for item and score for score.
"""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from al_core.ingest import ingest_file
from al_core.pipeline import import_label_file
from al_core.pipeline.model import load_model, model_dir
from al_core.pipeline.state import candidate_items, labelled_items
from al_core.storage import Workspace, WorkspaceConfig
from tests.conftest import TREC, TREC_LABELS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("prefect_dask")


@pytest.fixture
def labelled_ws(tmp_path):
    train = pd.read_parquet(TREC / "train.parquet").iloc[:300].reset_index(drop=True)
    train["id"] = [f"q{i:04d}" for i in range(len(train))]
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    cfg = WorkspaceConfig(labels=TREC_LABELS)
    cfg.active_learning.classifier = "logreg"
    cfg.active_learning.partition_rows = 100  # three scoring partitions
    cfg.active_learning.stopping = ["max-iterations"]
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    train.iloc[::6][["id", "label"]].to_csv(tmp_path / "labels.csv", index=False)
    import_label_file(ws, tmp_path / "labels.csv")
    return ws


def _selection(ws: Workspace, iteration: int = 1) -> dict:
    return json.loads((model_dir(ws, iteration) / "selection.json").read_text())


def test_dask_run_equals_local_run(prefect_server, labelled_ws, tmp_path):
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL

    from al_core.registry import make_strategy
    from flows.iteration import iteration_flow

    other = Workspace.open(shutil.copytree(labelled_ws.path, tmp_path / "ws-dask"))
    before = Workspace.open(shutil.copytree(labelled_ws.path, tmp_path / "ws-before"))
    local = iteration_flow(str(labelled_ws.path))
    assert local["status"] == "completed" and local["scoring"]["partitions"] == 3

    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env=env
    ) as cluster:
        other.config.active_learning.dask_address = cluster.scheduler_address
        other.save_config()
        remote = iteration_flow(str(other.path))
        with Client(cluster) as client:
            workers = set(client.run(os.getpid).values())
    assert remote["status"] == "completed" and remote["scoring"]["partitions"] == 3
    assert remote["scoring"]["rows"] == local["scoring"]["rows"] == 300
    # The partitions ran in the worker processes, the local ones in this process.
    assert set(remote["scoring"]["pids"]) <= workers and os.getpid() not in workers
    assert local["scoring"]["pids"] == [os.getpid()]

    a, b = _selection(labelled_ws), _selection(other)
    assert len(a["items"]) == 25 and a["items"] == b["items"]

    # ... and both equal the whole-pool path (one feature matrix, strategy.query on it) on
    # the workspace as it was before the run, with the model the run trained.
    model = load_model(model_dir(labelled_ws, 1) / "model")
    lab, cand = labelled_items(before), candidate_items(before)
    frame = pd.concat([lab[["id", "text", "content_hash"]], cand], ignore_index=True)
    X = model.features(before, frame)
    y = model.label_set.encode([v[0] for v in lab["labels"]])
    seed = 0 * 100_003 + 1
    result = make_strategy("breaking-ties").query(
        model.classifier, X, np.arange(len(lab), len(frame)), np.arange(len(lab)), y, 25, seed=seed
    )
    assert [it["id"] for it in a["items"]] == frame.id.iloc[result.indices].tolist()
    assert [it["score"] for it in a["items"]] == result.scores.tolist()
