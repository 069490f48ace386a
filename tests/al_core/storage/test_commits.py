"""The workspace commit log: readers follow markers; crashed transactions are rolled back or
forward; compaction keeps the data and the guarantees."""

import pytest

from al_core.storage import Workspace, delta, utcnow
from al_core.storage.workspace import to_table


def _pool_row(i):
    return dict(
        id=str(i),
        text=f"text {i}",
        content_hash=f"h{i}",
        role="pool",
        ingest_batch="b",
        source="s",
        metadata="{}",
        ingested_at=utcnow(),
    )


def _half_written(ws, tables, *, declared):
    """Append to ``tables`` as a transaction declaring ``declared`` would, with no marker:
    what a writer killed between its table commits and its marker leaves behind."""
    snap = ws.snapshot()
    meta = delta.commit_metadata("tx-crashed", snap.seq + 1, "ingest", declared, {"what": "x"})
    rows = {
        "pool": to_table("pool", [_pool_row(1), _pool_row(2)]),
        "ingest_log": to_table("ingest_log", [{"batch_id": "b", "kind": "pool"}]),
    }
    for t in tables:
        delta.append(delta.open_table(ws.table_uri(t)), rows[t], meta)


def test_readers_never_see_commits_without_a_marker(make_workspace):
    ws = make_workspace()
    _half_written(ws, ["pool"], declared=["ingest_log", "pool"])
    # Reading (no writer lock) sees the marked state only.
    assert ws.scalar("SELECT count(*) FROM pool") == 0
    assert ws.snapshot().seq == 0


def test_a_partial_transaction_is_rolled_back(make_workspace):
    ws = make_workspace()
    _half_written(ws, ["pool"], declared=["ingest_log", "pool"])
    ws = Workspace.open(ws.path)  # an idle local workspace is repaired on open
    assert [r.action for r in ws.recoveries] == ["rolled back"]
    assert "2 pool rows discarded" in ws.recoveries[0].message()
    assert ws.scalar("SELECT count(*) FROM pool") == 0
    assert ws.history()[-1]["kind"] == "recovery"
    # The table itself is back at the marked content, so the next writer builds on it.
    assert delta.open_table(ws.table_uri("pool")).to_pyarrow_table().num_rows == 0
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(5)])
    assert ws.query("SELECT id FROM pool").id.tolist() == ["5"]


def test_a_complete_transaction_without_its_marker_is_rolled_forward(make_workspace):
    ws = make_workspace()
    _half_written(ws, ["ingest_log", "pool"], declared=["ingest_log", "pool"])
    ws = Workspace.open(ws.path)
    assert [r.action for r in ws.recoveries] == ["rolled forward"]
    message = ws.recoveries[0].message()
    assert message.startswith("recovered") and "2 pool rows" in message
    assert ws.scalar("SELECT count(*) FROM pool") == 2
    assert ws.scalar("SELECT count(*) FROM ingest_log") == 1
    again = Workspace.open(ws.path)
    assert again.recoveries == []  # nothing left to repair


def test_the_recovery_check_opens_only_tables_past_the_marker(make_workspace, monkeypatch):
    ws = make_workspace()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
    opened = []
    real = Workspace._latest_handle

    def spy(self, table):
        opened.append(table)
        return real(self, table)

    monkeypatch.setattr(Workspace, "_latest_handle", spy)
    assert Workspace.open(ws.path).recoveries == []
    assert opened == []  # every table's log ends at its marked version: none is opened
    _half_written(ws, ["pool"], declared=["ingest_log", "pool"])
    again = Workspace.open(ws.path)
    assert opened == ["pool"] and [r.action for r in again.recoveries] == ["rolled back"]
    assert delta.local_version(ws.path / "tables" / "pool") == 3  # append, half-write, restore
    assert delta.local_version(ws.path / "tables" / "no-such-table") is None


def test_open_without_recovery_leaves_repair_to_the_next_writer(make_workspace):
    ws = make_workspace()
    _half_written(ws, ["pool"], declared=["ingest_log", "pool"])
    reader = Workspace.open(ws.path, recover=False)  # how the flow's tasks open it
    assert reader.recoveries == []
    assert delta.open_table(ws.table_uri("pool")).to_pyarrow_table().num_rows == 2  # left
    assert reader.scalar("SELECT count(*) FROM pool") == 0  # and not seen
    with reader.transaction() as tx:  # the writer lock repairs first
        tx.append("pool", [_pool_row(5)])
    assert [r.action for r in reader.recoveries] == ["rolled back"]
    assert reader.query("SELECT id FROM pool").id.tolist() == ["5"]


def test_a_failed_commit_undoes_its_own_table_commits(make_workspace, monkeypatch):
    ws = make_workspace()
    calls = []
    real = delta.append

    def flaky(dt, data, meta, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(dt, data, meta, **kw)

    monkeypatch.setattr(delta, "append", flaky)
    with pytest.raises(OSError, match="disk full"), ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
        tx.append("ingest_log", [{"batch_id": "b", "kind": "pool"}])
    monkeypatch.setattr(delta, "append", real)
    assert ws.scalar("SELECT count(*) FROM ingest_log") == 0
    assert delta.open_table(ws.table_uri("ingest_log")).to_pyarrow_table().num_rows == 0
    assert Workspace.open(ws.path).recoveries == []


def test_compaction_merges_files_and_keeps_every_row(make_workspace, monkeypatch):
    from al_core.storage import workspace as workspace_mod

    monkeypatch.setattr(workspace_mod, "COMPACT_AT_FILES", 5)
    ws = make_workspace()
    for i in range(12):
        with ws.transaction(kind="labels") as tx:
            tx.append("pool", [_pool_row(i)])
    files = delta.open_table(ws.table_uri("pool")).file_uris()
    assert len(files) < 5  # compacted automatically along the way
    assert sorted(ws.query("SELECT id FROM pool").id, key=int) == [str(i) for i in range(12)]
    kinds = [h["kind"] for h in ws.history()]
    assert kinds.count("compact") >= 2 and kinds.count("labels") == 12
    # An explicit compaction of an already compact table is a no-op.
    ws.compact(["pool"])
    assert ws.compact(["pool"]) == {}


def test_old_snapshots_stay_readable_after_compaction(make_workspace):
    """Time travel for audits: a connection at an older marker reads what was there then."""
    ws = make_workspace()
    for i in range(3):
        with ws.transaction() as tx:
            tx.append("pool", [_pool_row(i)])
    old = ws.snapshot()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(9)])
    ws.compact()
    con = ws.connect(old)
    try:
        assert con.execute("SELECT count(*) FROM pool").fetchone()[0] == 3
    finally:
        con.close()
    assert ws.scalar("SELECT count(*) FROM pool") == 4
