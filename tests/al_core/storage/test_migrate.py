"""`alflow migrate`: a workspace written by the first alflow becomes a Delta workspace."""

import shutil
from pathlib import Path

import pytest

from al_core.embeddings import EmbeddingCache
from al_core.errors import WorkspaceError
from al_core.storage import Workspace
from al_core.storage.check import check_workspace
from al_core.storage.migrate import is_legacy, migrate_workspace
from al_core.storage.workspace import to_table

LEGACY = Path(__file__).resolve().parents[2] / "data" / "legacy_workspace_v1"


@pytest.fixture
def legacy(tmp_path):
    root = tmp_path / "old"
    shutil.copytree(LEGACY, root)
    # A transaction the old format committed but had not yet moved into place.
    import pyarrow.parquet as pq

    staged = root / ".staging" / "tx-committed"
    staged.mkdir(parents=True)
    row = dict(quarantine_id="q-late", kind="labels", id="zz", reason="unknown id 'zz'")
    pq.write_table(to_table("quarantine", [row]), staged / "quarantine__part-late-000.parquet")
    (staged / "COMMITTED").write_bytes(b"")
    uncommitted = root / ".staging" / "tx-lost"
    uncommitted.mkdir()
    pq.write_table(
        to_table("quarantine", [dict(row, quarantine_id="q-lost")]),
        uncommitted / "quarantine__part-x.parquet",
    )
    return root


def test_migrate_keeps_every_row_and_the_embeddings(legacy):
    assert is_legacy(legacy)
    with pytest.raises(WorkspaceError, match="alflow migrate"):
        Workspace.open(legacy)
    result = migrate_workspace(legacy)
    assert result["rows"]["pool"] == 40 and result["rows"]["label_events"] == 13
    assert result["rows"]["quarantine"] == 1  # the committed staged row, not the lost one
    assert result["embedding_models"] == ["fake-model"]

    ws = Workspace.open(legacy)
    assert not is_legacy(legacy)
    assert ws.scalar("SELECT count(*) FROM pool") == 40
    assert ws.scalar("SELECT count(*) FROM current_labels") == 13
    labels = ws.query("SELECT id, labels FROM current_labels WHERE id = 'q011'")
    assert list(labels.labels[0]) == ["LOC"]
    assert ws.query("SELECT quarantine_id FROM quarantine").quarantine_id.tolist() == ["q-late"]
    cache = EmbeddingCache(ws.location.child("embeddings"))
    assert cache.model_ids() == ["fake-model"] and cache.count("fake-model") == 40
    assert cache.dimension("fake-model") == 8
    assert check_workspace(ws).ok
    assert ws.history()[0]["kind"] == "migrate"
    legacy_dirs = list(legacy.glob("legacy-*"))
    assert len(legacy_dirs) == 1 and (legacy_dirs[0] / "tables" / "pool").is_dir()
    with pytest.raises(WorkspaceError, match="nothing to migrate"):
        migrate_workspace(legacy)
    # The migrated workspace takes new writes as usual.
    with ws.transaction() as tx:
        tx.append("quarantine", [dict(quarantine_id="q-new", kind="labels")])
    assert ws.scalar("SELECT count(*) FROM quarantine") == 2


def test_a_migration_interrupted_after_building_is_resumed(legacy, monkeypatch):
    from al_core.storage import migrate as migrate_mod

    def crash(root, legacy_dir):
        raise KeyboardInterrupt  # dies before any old file moved

    monkeypatch.setattr(migrate_mod, "_swap", crash)
    with pytest.raises(KeyboardInterrupt):
        migrate_workspace(legacy)
    monkeypatch.undo()
    assert is_legacy(legacy)
    result = migrate_workspace(legacy)  # picks up the built tables
    assert result["rows"]["pool"] == 40
    assert Workspace.open(legacy).scalar("SELECT count(*) FROM current_labels") == 13
