"""``alflow migrate``: convert a workspace of the first storage format to Delta tables.

The first alflow stored each table as ``tables/<table>/part-*.parquet`` files found by a
directory glob, committed through a ``.staging/`` folder, and the embedding cache as
``embeddings/<model>/part-*.parquet``. Migration (local workspaces only; a workspace is moved to
an object store after migrating, with the usual tools):

1. finishes the old format's interrupted transactions (committed ones forward, others dropped);
2. writes every table, and every model's embedding cache, as a new Delta table beside the old
   files (``*.migrating``), reading the old parts with DuckDB (``union_by_name``, so parts from
   older schemas read their missing columns as null);
3. moves the old files to ``legacy-<time>/`` and the new tables into place;
4. creates the commit log last: until then :meth:`Workspace.open` still sees an old workspace,
   so a crash anywhere before that point is resumed by running the command again.

Nothing is deleted: ``legacy-<time>/`` can be removed once the migrated workspace is checked.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from al_core.errors import WorkspaceError
from al_core.storage import delta
from al_core.storage.commits import COMMITS_KEY, CommitLog
from al_core.storage.config import CONFIG_NAME
from al_core.storage.location import Location
from al_core.storage.locks import FileLock
from al_core.storage.schema import SCHEMAS, TABLES

_DONE_MARK = ".migration-built"


def is_legacy(path: str | Path) -> bool:
    """True for a workspace in the first storage format (tables without a commit log)."""
    loc = Location(path)
    if loc.remote or not loc.is_file(CONFIG_NAME) or loc.exists(COMMITS_KEY):
        return False
    return loc.exists("tables") or loc.exists("tables.migrating")


def migrate_workspace(path: str | Path) -> dict[str, Any]:
    """Migrate the workspace at ``path``; returns rows per table and embedding models."""
    loc = Location(path)
    if loc.remote:
        raise WorkspaceError("migrate works on local workspaces; migrate, then copy it")
    loc.check_delta_safe()
    if not loc.is_file(CONFIG_NAME):
        raise WorkspaceError(f"{loc} is not an alflow workspace (no {CONFIG_NAME})")
    if loc.exists(COMMITS_KEY):
        raise WorkspaceError(f"{loc} already uses Delta tables; nothing to migrate")
    root = loc.local()
    with FileLock(root / ".lock").hold(timeout=30):
        if not (root / _DONE_MARK).exists():
            _finish_staged(root)
            rows = _build(root)
            embeddings = _build_embeddings(root)
            (root / _DONE_MARK).write_text("built\n")
        else:
            rows, embeddings = {}, []
        legacy = root / f"legacy-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        _swap(root, legacy)
        versions = {t: delta.open_table(str(root / "tables" / t)).version() for t in TABLES}
        if not rows:
            rows = {
                t: delta.open_table(str(root / "tables" / t)).to_pyarrow_dataset().count_rows()
                for t in TABLES
            }
        log = CommitLog(loc)
        delta.create_table(log.uri, _commits_schema())
        log.record(
            "migrate",
            1,
            "migrate",
            versions,
            {"what": "the migration from Parquet parts", "rows": rows},
        )
        (root / _DONE_MARK).unlink(missing_ok=True)
    return {"workspace": str(root), "rows": rows, "embedding_models": embeddings}


def _commits_schema() -> pa.Schema:
    from al_core.storage.commits import COMMITS_SCHEMA

    return COMMITS_SCHEMA


def _finish_staged(root: Path) -> None:
    """Apply the old format's committed staged transactions; drop the others."""
    staging = root / ".staging"
    if not staging.is_dir():
        return
    for tx in sorted(p for p in staging.iterdir() if p.is_dir()):
        if (tx / "COMMITTED").exists():
            for part in sorted(tx.glob("*.parquet")):
                table, name = part.name.split("__", 1)
                target = root / "tables" / table / name
                if not target.exists():
                    os.replace(part, target)
        shutil.rmtree(tx)


def _read_parts(files: list[Path]) -> pa.Table:
    import duckdb

    con = duckdb.connect()
    try:
        return con.sql(
            "SELECT * FROM read_parquet($files, union_by_name=true)",
            params={"files": [str(f) for f in files]},
        ).to_arrow_table()
    finally:
        con.close()


def _build(root: Path) -> dict[str, int]:
    from al_core.storage.workspace import to_table

    out = root / "tables.migrating"
    shutil.rmtree(out, ignore_errors=True)
    rows = {}
    for table in TABLES:
        folder = root / "tables" / table
        files = (
            sorted(p for p in folder.glob("part-*.parquet") if p.is_file())
            if folder.is_dir()
            else []
        )
        uri = str(out / table)
        delta.create_table(uri, SCHEMAS[table])
        data = _read_parts(files) if files else SCHEMAS[table].empty_table()
        known = [c for c in data.column_names if c in SCHEMAS[table].names]
        data = to_table(table, data.select(known))
        if data.num_rows:
            dt = delta.open_table(uri)
            delta.append(dt, data, {delta.META_KIND: "migrate"})
        rows[table] = data.num_rows
    return rows


def _build_embeddings(root: Path) -> list[str]:
    emb = root / "embeddings"
    models = []
    if not emb.is_dir():
        return models
    for model_dir in sorted(p for p in emb.iterdir() if p.is_dir()):
        parts = sorted(model_dir.glob("part-*.parquet"))
        if not parts:
            continue
        data = _read_parts(parts)
        hashes = data.column("content_hash").combine_chunks()
        vectors = data.column("vector").combine_chunks()
        if pa.types.is_fixed_size_list(vectors.type):
            values = vectors.flatten()
            dim = vectors.type.list_size
            offsets = pa.array(range(0, (len(vectors) + 1) * dim, dim), pa.int32())
            vectors = pa.ListArray.from_arrays(offsets, values)
        target = model_dir / "vectors.migrating"
        shutil.rmtree(target, ignore_errors=True)
        from deltalake import write_deltalake

        write_deltalake(str(target), pa.table({"content_hash": hashes, "vector": vectors}))
        models.append(model_dir.name)
    return models


def _swap(root: Path, legacy: Path) -> None:
    """Move old files aside and new tables into place; every step can be redone."""
    new_tables = root / "tables.migrating"
    if new_tables.is_dir():
        if (root / "tables").is_dir():
            legacy.mkdir(parents=True, exist_ok=True)
            os.replace(root / "tables", legacy / "tables")
        os.replace(new_tables, root / "tables")
    emb = root / "embeddings"
    for model_dir in sorted(p for p in emb.iterdir() if p.is_dir()) if emb.is_dir() else []:
        built = model_dir / "vectors.migrating"
        if not built.is_dir():
            continue
        parts = sorted(model_dir.glob("part-*.parquet"))
        if parts:
            aside = legacy / "embeddings" / model_dir.name
            aside.mkdir(parents=True, exist_ok=True)
            for p in parts:
                os.replace(p, aside / p.name)
        shutil.rmtree(model_dir / "vectors", ignore_errors=True)
        os.replace(built, model_dir / "vectors")
    shutil.rmtree(root / ".staging", ignore_errors=True)
