"""The machinery of benchmarks/scale.py at a tiny size: texts, aging, the hard-linked copy."""

import pytest

from al_core.storage import Workspace, WorkspaceConfig

scale = pytest.importorskip("benchmarks.scale")
if not scale.DATA.is_file():
    pytest.skip(f"20 Newsgroups data absent ({scale.DATA})", allow_module_level=True)


def test_aged_and_fresh_copies_hold_the_same_rows(tmp_path):
    from al_core.ingest import ingest_file

    info = scale.write_sources(tmp_path, 120, 10, seed=0)
    assert info["mean_chars"] > 50
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(labels=scale.LABELS))
    ingest_file(ws, tmp_path / "pool.parquet")
    scale.copy_workspace(ws.path, tmp_path / "fresh")
    aged = scale.age(ws.path, tmp_path / "gold.parquet", 3, one_transaction=False)
    fresh = scale.age(tmp_path / "fresh", tmp_path / "gold.parquet", 3, one_transaction=True)
    assert (aged["transactions"], fresh["transactions"]) == (6, 1)
    a, b = Workspace.open(ws.path), Workspace.open(tmp_path / "fresh")
    for table in ("label_events", "ingest_log", "iterations", "query_log", "stopping"):
        sql = f"SELECT count(*) FROM {table}"
        assert a.scalar(sql) == b.scalar(sql) > 0
    assert a.scalar("SELECT count(*) FROM pool") == b.scalar("SELECT count(*) FROM pool") == 120
