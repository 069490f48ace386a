import json

import pyarrow.parquet as pq
import pytest

from al_core.errors import ConfigError, WorkspaceError
from al_core.storage import SCHEMAS, TABLES, Workspace, WorkspaceConfig, utcnow
from al_core.storage.atomic import atomic_write_parquet


def _pool_row(i, text="t", role="pool"):
    return dict(
        id=str(i),
        text=text,
        content_hash=f"h{i}",
        role=role,
        ingest_batch="b",
        source="s",
        metadata="{}",
        ingested_at=utcnow(),
    )


def _event(i, labels, annotator="a", at=None, skipped=False, key=None):
    return dict(
        event_id=f"e{i}-{annotator}-{key}",
        id=str(i),
        labels=labels,
        skipped=skipped,
        annotator=annotator,
        source="queue",
        external_key=key or f"k{i}{annotator}",
        created_at=at or utcnow(),
    )


def test_init_creates_every_table_readable_when_empty(make_workspace):
    ws = make_workspace()
    for table in TABLES:
        df = ws.query(f"SELECT * FROM {table}")
        assert len(df) == 0
        assert list(df.columns) == SCHEMAS[table].names
    assert json.loads((ws.path / "alflow.json").read_text())["labels"] == ["pos", "neg"]


def test_init_refuses_existing_workspace_and_nonempty_folder(tmp_path, make_workspace):
    ws = make_workspace()
    with pytest.raises(WorkspaceError, match="already an alflow workspace"):
        Workspace.init(ws.path, WorkspaceConfig(labels=["a", "b"]))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.init(tmp_path / "other", WorkspaceConfig(labels=["a", "b"]))


def test_open_rejects_non_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="not an alflow workspace"):
        Workspace.open(tmp_path)


def test_config_validation():
    with pytest.raises(ConfigError, match="duplicate"):
        WorkspaceConfig(labels=["a", "a"])
    with pytest.raises(ConfigError, match="label policy"):
        WorkspaceConfig(labels=["a", "b"], label_policy="oldest")
    with pytest.raises(ConfigError, match="separator"):
        WorkspaceConfig(labels=["a|b", "c"], multi_label=True)
    with pytest.raises(ConfigError, match="unknown keys"):
        WorkspaceConfig.from_dict({"labels": ["a", "b"], "colour": "red"})


def test_transaction_appends_to_several_tables_together(make_workspace):
    ws = make_workspace()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1), _pool_row(2)])
        tx.append("label_events", [_event(1, ["pos"])])
    assert ws.scalar("SELECT count(*) FROM pool") == 2
    assert ws.scalar("SELECT count(*) FROM label_events") == 1
    assert not any((ws.path / ".staging").iterdir())


def test_failed_transaction_writes_nothing(make_workspace):
    ws = make_workspace()
    with pytest.raises(RuntimeError), ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
        raise RuntimeError("boom")
    assert ws.scalar("SELECT count(*) FROM pool") == 0


def test_recovery_rolls_back_uncommitted_and_forward_committed(make_workspace):
    ws = make_workspace()
    staging = ws.path / ".staging"
    from al_core.storage.workspace import to_table

    uncommitted = staging / "tx-a"
    atomic_write_parquet(uncommitted / "pool__part-a.parquet", to_table("pool", [_pool_row(1)]))
    committed = staging / "tx-b"
    atomic_write_parquet(committed / "pool__part-b.parquet", to_table("pool", [_pool_row(2)]))
    (committed / "COMMITTED").write_bytes(b"")
    (ws.path / "tables" / "pool" / ".tmp-x.parquet-1.partial").write_bytes(b"junk")
    ws = Workspace.open(ws.path)
    assert ws.query("SELECT id FROM pool").id.tolist() == ["2"]
    assert not uncommitted.exists() and not committed.exists()
    assert not list((ws.path / "tables" / "pool").glob(".tmp-*"))


def test_second_writer_gets_clear_error(make_workspace):
    ws = make_workspace()
    other = Workspace.open(ws.path)
    with ws.lock(), pytest.raises(WorkspaceError, match="locked by another"):
        with other.lock(timeout=0.1):
            pass


def test_latest_policy_relabel_and_skip(make_workspace):
    ws = make_workspace()
    t0 = utcnow()
    from datetime import timedelta

    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1), _pool_row(2)])
        tx.append(
            "label_events",
            [
                _event(1, ["pos"], at=t0, key="a"),
                _event(1, ["neg"], at=t0 + timedelta(seconds=1), key="b"),
                _event(1, [], at=t0 + timedelta(seconds=2), skipped=True, key="c"),
                _event(2, [], skipped=True, key="d"),
            ],
        )
    cur = ws.query("SELECT id, labels, n_events FROM current_labels ORDER BY id")
    assert cur.id.tolist() == ["1"]  # item 2 was only skipped: still unlabelled
    assert list(cur.labels[0]) == ["neg"]  # the relabel wins; the skip erases nothing
    assert cur.n_events[0] == 2


def test_majority_policy_and_disagreements(make_workspace):
    from datetime import timedelta

    ws = make_workspace(labels=["pos", "neg"], label_policy="majority")
    t0 = utcnow()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1), _pool_row(2)])
        tx.append(
            "label_events",
            [
                _event(1, ["pos"], "ann1", t0),
                _event(1, ["pos"], "ann2", t0 + timedelta(seconds=1)),
                _event(1, ["neg"], "ann3", t0 + timedelta(seconds=2)),  # latest, but outvoted
                _event(2, ["neg"], "ann1", t0),
            ],
        )
    cur = ws.query("SELECT id, labels FROM current_labels ORDER BY id")
    assert [list(x) for x in cur.labels] == [["pos"], ["neg"]]
    dis = ws.query("SELECT id, n_distinct FROM disagreements")
    assert dis.id.tolist() == ["1"] and dis.n_distinct.tolist() == [2]


def test_parts_are_plain_zstd_parquet(make_workspace):
    ws = make_workspace()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
    parts = [
        p for p in (ws.path / "tables" / "pool").glob("part-*.parquet") if "schema" not in p.name
    ]
    assert len(parts) == 1
    meta = pq.ParquetFile(parts[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_workspace_from_an_older_schema_gains_new_columns(make_workspace):
    """A table written before a column was added still reads, with the column as NULL."""
    import pyarrow as pa

    ws = make_workspace()
    folder = ws.path / "tables" / "iterations"
    for part in folder.glob("*.parquet"):
        part.unlink()
    old = SCHEMAS["iterations"].remove(SCHEMAS["iterations"].get_field_index("labels_until"))
    row = {f.name: None for f in old}
    row.update(iteration=1, status="completed")
    atomic_write_parquet(folder / "part-old.parquet", pa.Table.from_pylist([row], schema=old))
    ws = Workspace.open(ws.path)
    df = ws.query("SELECT iteration, labels_until FROM iterations")
    assert df.iteration.tolist() == [1] and df.labels_until.isna().all()
