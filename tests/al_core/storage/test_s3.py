"""A workspace on an object store: a real S3-compatible server (moto) on loopback."""

import subprocess
import sys

import pytest

from al_core.embeddings import EmbeddingCache
from al_core.errors import WorkspaceError
from al_core.queues import FileQueue
from al_core.storage import Location, Workspace, WorkspaceConfig, delta, utcnow
from al_core.storage.check import check_workspace
from al_core.storage.workspace import to_table


def _rows(n, start=0):
    return [
        dict(id=str(i), text=f"t{i}", content_hash=f"h{i}", role="pool", ingested_at=utcnow())
        for i in range(start, start + n)
    ]


def test_workspace_lifecycle_on_s3(s3_url):
    ws = Workspace.init(s3_url, WorkspaceConfig(labels=["pos", "neg"]))
    assert ws.location.remote and ws.uri == s3_url
    with pytest.raises(WorkspaceError, match="already an alflow workspace"):
        Workspace.init(s3_url, WorkspaceConfig(labels=["pos", "neg"]))
    ws = Workspace.open(s3_url)
    with ws.transaction(kind="ingest") as tx:
        tx.append("pool", _rows(5))
        tx.append(
            "label_events",
            [
                dict(
                    event_id="e",
                    id="1",
                    labels=["pos"],
                    skipped=False,
                    annotator="a",
                    external_key="k",
                    created_at=utcnow(),
                )
            ],
        )
    assert Workspace.open(s3_url).scalar("SELECT count(*) FROM current_labels") == 1
    assert [h["kind"] for h in ws.history()] == ["init", "ingest"]
    assert check_workspace(ws, deep=True).ok


def test_crash_leftovers_on_s3_are_repaired_by_the_next_writer(s3_url):
    ws = Workspace.init(s3_url, WorkspaceConfig(labels=["pos", "neg"]))
    meta = delta.commit_metadata("tx", 1, "ingest", ["ingest_log", "pool"], {})
    delta.append(delta.open_table(ws.table_uri("pool")), to_table("pool", _rows(2)), meta)
    ws = Workspace.open(s3_url)
    assert ws.scalar("SELECT count(*) FROM pool") == 0  # readers follow the marker
    with ws.transaction() as tx:
        tx.append("pool", _rows(1, start=10))
    assert [r.action for r in ws.recoveries] == ["rolled back"]
    assert ws.query("SELECT id FROM pool").id.tolist() == ["10"]


HOLD_LEASE = """
import os, sys, time
from al_core.storage import Workspace
ws = Workspace.open(sys.argv[1])
ctx = ws.lock()
ctx.__enter__()
print("held", flush=True)
time.sleep(60)
"""


def test_the_writer_lease_excludes_other_machines_and_expires(s3_url):
    Workspace.init(s3_url, WorkspaceConfig(labels=["pos", "neg"]))
    import os

    # The lease must outlast this process's open of the workspace and its first try: with 3 s,
    # on a machine with both cores busy, it had expired before the try and the test failed.
    env = {**os.environ, "ALFLOW_LEASE_SECONDS": "15"}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASE, s3_url], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceError, match="locked by writer"):
            with Workspace.open(s3_url).lock(timeout=0.5):
                pass
        proc.kill()  # dies holding the lease: it expires instead of being released
        proc.wait()
        with Workspace.open(s3_url).lock(timeout=45):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_embedding_cache_and_file_queue_on_s3(s3_url, tmp_path):
    import numpy as np

    from al_core.queues import ExportBatch, ExportItem

    root = Location(s3_url)
    cache = EmbeddingCache(root.child("embeddings"))
    cache.put("m", ["a", "b"], np.eye(2, 3, dtype=np.float32), embedder="fake")
    assert cache.count("m") == 2 and cache.dimension("m") == 3
    np.testing.assert_array_equal(cache.lookup("m", ["b"])["b"], [0, 1, 0])

    queue = FileQueue(root.child("queue"))
    batch = ExportBatch("batch-0001", 1, None, [ExportItem("1", "t1", 0.5, 0)])
    where = queue.export_batch(batch)
    assert where == f"{s3_url}/queue/outbox/batch-0001.json"
    assert queue.read_batch("batch-0001")[0]["data"]["id"] == "1"
    root.write_text("queue/inbox/answers.csv", "id,label\n1,pos\n")
    [local] = queue.pull_label_files()
    assert local.read_text() == "id,label\n1,pos\n"
    queue.mark_imported(local)
    assert root.list("queue/inbox") == [] and root.list("queue/inbox/imported") == ["answers.csv"]
    assert queue.state()["imported"] == 1


def test_the_cli_on_an_s3_workspace(s3_url, tmp_path):
    from tests.e2e.cli_helpers import run_alflow, status_json

    (tmp_path / "pool.csv").write_text("id,text,label\n1,good film,pos\n2,bad film,\n")
    run_alflow("init", s3_url, "--labels", "pos,neg", check=True)
    run_alflow("ingest", s3_url, tmp_path / "pool.csv", "--id-column", "id", check=True)
    st = status_json(s3_url)
    assert (st["workspace"], st["pool_size"], st["labelled"]) == (s3_url, 2, 1)
    assert "ok" in run_alflow("check", s3_url, check=True).stdout
