import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from al_core.errors import ConfigError, WorkspaceError
from al_core.storage import SCHEMAS, TABLES, Workspace, WorkspaceConfig, utcnow


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
    # One marker made both appends visible together.
    assert ws.snapshot().seq == 1 and ws.snapshot().kind == "write"
    assert ws.history()[-1]["seq"] == 1


def test_failed_transaction_writes_nothing(make_workspace):
    ws = make_workspace()
    with pytest.raises(RuntimeError), ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
        raise RuntimeError("boom")
    assert ws.scalar("SELECT count(*) FROM pool") == 0
    assert ws.snapshot().seq == 0


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


def test_data_files_are_zstd_parquet_named_by_the_log(make_workspace):
    from deltalake import DeltaTable

    ws = make_workspace()
    with ws.transaction() as tx:
        tx.append("pool", [_pool_row(1)])
    dt = DeltaTable(ws.table_uri("pool"))
    files = dt.file_uris()
    assert len(files) == 1
    meta = pq.ParquetFile(files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    # A stray Parquet file that no commit names is not part of the table.
    stray = ws.path / "tables" / "pool" / "part-stray.parquet"
    pq.write_table(pa.table({"id": ["x"]}), stray)
    assert ws.query("SELECT id FROM pool").id.tolist() == ["1"]


def test_tables_checkpoint_every_ten_commits(make_workspace):
    """Opening a table replays the commits after its last checkpoint; an aged workspace must
    not replay a hundred on every open."""
    from deltalake import DeltaTable

    from al_core.storage.delta import CHECKPOINT_INTERVAL

    ws = make_workspace()
    for i in range(12):
        with ws.transaction() as tx:
            tx.append("label_events", [_event(i, ["pos"])])
    log = ws.path / "tables" / "label_events" / "_delta_log"
    checkpoints = sorted(p.name for p in log.glob("*.checkpoint.parquet"))
    assert CHECKPOINT_INTERVAL == 10 and len(checkpoints) == 1, checkpoints
    last = json.loads((log / "_last_checkpoint").read_text())["version"]
    assert DeltaTable(ws.table_uri("label_events")).version() - last < CHECKPOINT_INTERVAL
    assert len(ws.query("SELECT * FROM label_events")) == 12
    commits = ws.path / "_alflow" / "commits" / "_delta_log"
    assert list(commits.glob("*.checkpoint.parquet"))  # the commit log too


def test_glob_characters_in_the_path_do_not_mix_workspaces(tmp_path):
    """Regression (issue 6, item 1): `ws[1]` used to read the tables of `ws1`.

    Tables are now found through their Delta logs, never by a glob, so `*` and `?` are plain
    characters; Delta Lake cannot store tables under a path with `[`, `]`, `^`, `|` or `\\`,
    so those are refused with a one-line reason instead of mixing workspaces up.
    """
    plain = Workspace.init(tmp_path / "ws1", WorkspaceConfig(labels=["a", "b"]))
    star = Workspace.init(tmp_path / "w*s?", WorkspaceConfig(labels=["a", "b"]))
    starred = Workspace.init(tmp_path / "ws*", WorkspaceConfig(labels=["a", "b"]))
    with plain.transaction() as tx:
        tx.append("pool", [_pool_row(1), _pool_row(2)])
    with star.transaction() as tx:
        tx.append("pool", [_pool_row(7)])
    assert Workspace.open(tmp_path / "w*s?").query("SELECT id FROM pool").id.tolist() == ["7"]
    assert Workspace.open(tmp_path / "ws*").scalar("SELECT count(*) FROM pool") == 0
    assert sorted(Workspace.open(tmp_path / "ws1").query("SELECT id FROM pool").id) == ["1", "2"]
    assert starred.uri.endswith("ws*")
    with pytest.raises(WorkspaceError, match=r"contains '\['.*choose another folder name"):
        Workspace.init(tmp_path / "ws[1]", WorkspaceConfig(labels=["a", "b"]))
    assert not (tmp_path / "ws[1]").exists()


def test_a_table_from_an_older_schema_reads_new_columns_as_null(make_workspace):
    """A column added by a newer alflow reads as NULL in old rows; the next write adds it."""
    from deltalake import DeltaTable, write_deltalake

    ws = make_workspace()
    old = SCHEMAS["iterations"].remove(SCHEMAS["iterations"].get_field_index("labels_until"))
    uri = ws.table_uri("iterations")
    row = {f.name: None for f in old}
    row.update(iteration=1, status="completed")
    write_deltalake(
        uri, pa.Table.from_pylist([row], schema=old), mode="overwrite", schema_mode="overwrite"
    )
    # Make the commit log point at the rewritten version, as an older alflow would have.
    from al_core.storage import delta

    snap = ws.snapshot()
    versions = {**snap.versions, "iterations": DeltaTable(uri).version()}
    ws._log.record("old", snap.seq + 1, "write", versions, {})
    ws = Workspace.open(ws.path)
    df = ws.query("SELECT iteration, labels_until FROM iterations")
    assert df.iteration.tolist() == [1] and df.labels_until.isna().all()
    assert "labels_until" not in pa.schema(DeltaTable(uri).schema()).names
    with ws.transaction() as tx:
        tx.append("iterations", [{"iteration": 2, "status": "completed", "labels_until": utcnow()}])
    assert "labels_until" in pa.schema(DeltaTable(uri).schema()).names
    df = ws.query("SELECT iteration, labels_until FROM iterations ORDER BY iteration")
    assert df.iteration.tolist() == [1, 2] and df.labels_until.isna().tolist() == [True, False]
    assert delta.META_KIND  # the helper module is importable on its own


def test_open_of_an_old_parquet_parts_workspace_asks_for_migrate(tmp_path):
    root = tmp_path / "old"
    (root / "tables" / "pool").mkdir(parents=True)
    (root / "alflow.json").write_text(json.dumps({"labels": ["a", "b"]}))
    with pytest.raises(WorkspaceError, match="alflow migrate"):
        Workspace.open(root)


def test_sql_types_of_empty_views_are_duckdbs_own_for_every_schema_column():
    """Empty tables are views spelled in SQL (no Arrow object, so no pandas import in DuckDB)."""
    import duckdb

    from al_core.storage.workspace import _duck_type

    con = duckdb.connect()
    for schema in SCHEMAS.values():
        for field in schema:
            arrow = con.from_arrow(pa.table({"x": pa.nulls(0, field.type)}))
            assert _duck_type(field.type) == str(arrow.types[0]), field
    with pytest.raises(TypeError, match="no DuckDB type"):
        _duck_type(pa.decimal128(5, 2))


def test_an_empty_table_reads_as_its_schema(make_workspace):
    ws = make_workspace()
    with ws.reading() as con:
        for table in TABLES:
            rel = con.sql(f"SELECT * FROM {table}")
            assert rel.columns == SCHEMAS[table].names
            assert rel.fetchall() == []
