"""A workspace: one folder holding the config, the Parquet tables, caches and the queue.

Layout::

    WORKSPACE/
      alflow.json                 config (label set, columns, active-learning defaults)
      tables/<table>/part-*.parquet   append-only tables (schemas in storage/schema.py)
      embeddings/<model>/part-*.parquet   embedding cache keyed by content hash
      models/ queue/ reports/     artefacts of the pipeline
      .staging/<tx>/              transactions being committed (see Transaction)
      .lock                       one writer at a time

Parquet is the source of truth. Writes happen in transactions: every part of a transaction is
first written to ``.staging/<tx>/``; a ``COMMITTED`` marker is then renamed into place, and only
after that are the parts renamed into their table folders. A crash before the marker loses the
whole transaction; a crash after it is rolled forward by the next writer. Readers query the
tables through DuckDB views over the Parquet globs; hidden temporary files never match.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from al_core.errors import WorkspaceError
from al_core.storage.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    fsync_dir,
)
from al_core.storage.config import CONFIG_NAME, WorkspaceConfig
from al_core.storage.schema import SCHEMAS, TABLES

COMMIT_MARKER = "COMMITTED"
LOCK_TIMEOUT_S = float(os.environ.get("ALFLOW_LOCK_TIMEOUT", "30"))


def utcnow() -> datetime:
    return datetime.now(UTC)


def crashpoint(name: str) -> None:
    """Fault injection for crash-safety tests: ``ALFLOW_CRASHPOINT=name`` kills the process here."""
    if os.environ.get("ALFLOW_CRASHPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def to_table(name: str, data: pd.DataFrame | pa.Table | list[dict[str, Any]]) -> pa.Table:
    """Coerce rows to the table's schema (columns in order; missing nullable columns as null)."""
    schema = SCHEMAS[name]
    if isinstance(data, list):
        data = pa.Table.from_pylist(data) if data else schema.empty_table()
    elif isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    missing = [f.name for f in schema if f.name not in data.column_names]
    for col in missing:
        data = data.append_column(col, pa.nulls(data.num_rows, type=schema.field(col).type))
    extra = set(data.column_names) - set(schema.names)
    if extra:
        raise ValueError(f"table {name!r} has no columns {sorted(extra)}")
    return data.select(schema.names).cast(schema)


class Transaction:
    """Parts to append atomically to several tables; see the module docstring."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.parts: list[tuple[str, pa.Table]] = []

    def append(self, table: str, rows: pd.DataFrame | pa.Table | list[dict[str, Any]]) -> None:
        if table not in SCHEMAS:
            raise KeyError(f"unknown table {table!r}")
        t = to_table(table, rows)
        if t.num_rows:
            self.parts.append((table, t))

    def commit(self) -> None:
        if not self.parts:
            return
        ws = self.workspace
        txid = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        staging = ws.path / ".staging" / txid
        staging.mkdir(parents=True)
        for k, (table, t) in enumerate(self.parts):
            atomic_write_parquet(staging / f"{table}__part-{txid}-{k:03d}.parquet", t)
            crashpoint("staged-part")
        atomic_write_bytes(staging / COMMIT_MARKER, b"")
        crashpoint("committed")
        ws._apply_staged(staging)


class Workspace:
    """Open with :meth:`Workspace.open` or create with :meth:`Workspace.init`."""

    def __init__(self, path: Path, config: WorkspaceConfig) -> None:
        self.path = Path(path)
        self.config = config

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | Path, config: WorkspaceConfig) -> Workspace:
        path = Path(path)
        if (path / CONFIG_NAME).exists():
            raise WorkspaceError(f"{path} is already an alflow workspace")
        if path.exists() and not path.is_dir():
            raise WorkspaceError(f"{path} exists and is not a folder")
        if path.exists() and any(path.iterdir()):
            raise WorkspaceError(f"{path} is not empty; choose a new or empty folder")
        path.mkdir(parents=True, exist_ok=True)
        ws = cls(path, config)
        ws._write_schema_parts()
        for sub in ("embeddings", "models", "queue", "reports"):
            (path / sub).mkdir(exist_ok=True)
        atomic_write_json(path / CONFIG_NAME, config.to_dict())
        return ws

    def _write_schema_parts(self) -> None:
        """An empty part per table with the current schema, named by the schema's hash.

        The DuckDB views read parts with ``union_by_name``, so this makes every column of the
        current schema resolve before any data exists, and in a workspace written by an older
        alflow whose tables lacked a column added since (older rows read it as NULL).
        """
        for table in TABLES:
            schema = SCHEMAS[table]
            digest = hashlib.sha256(schema.to_string().encode()).hexdigest()[:12]
            part = self.path / "tables" / table / f"part-00000000-schema-{digest}.parquet"
            if not part.exists():
                atomic_write_parquet(part, schema.empty_table())

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        path = Path(path)
        if not (path / CONFIG_NAME).is_file():
            raise WorkspaceError(
                f"{path} is not an alflow workspace (no {CONFIG_NAME}); "
                f"create one with `alflow init {path} --labels ...`"
            )
        ws = cls(path, WorkspaceConfig.load(path / CONFIG_NAME))
        for table in TABLES:
            if not (path / "tables" / table).is_dir():
                raise WorkspaceError(f"{path} is damaged: table folder {table!r} is missing")
        ws._recover_if_idle()
        ws._write_schema_parts()
        return ws

    def save_config(self) -> None:
        with self.lock():
            atomic_write_json(self.path / CONFIG_NAME, self.config.to_dict())

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the workspace's writer lock (re-entrant within one process)."""
        if getattr(self, "_lock_depth", 0):
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        timeout = LOCK_TIMEOUT_S if timeout is None else timeout
        fh = open(self.path / ".lock", "a+")
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise WorkspaceError(
                        f"workspace {self.path} is locked by another alflow process; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.05)
        self._lock_depth = 1
        try:
            self._recover()
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @contextlib.contextmanager
    def run_lock(self, what: str = "an iteration") -> Iterator[None]:
        """One pipeline run at a time per workspace (separate from the short writer lock)."""
        fh = open(self.path / ".run.lock", "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise WorkspaceError(
                f"{what} is already running on workspace {self.path}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Collect appends; they become visible together when the block exits without error."""
        with self.lock():
            tx = Transaction(self)
            yield tx
            tx.commit()

    def _apply_staged(self, staging: Path) -> None:
        for part in sorted(staging.glob("*.parquet")):
            table, name = part.name.split("__", 1)
            target = self.path / "tables" / table / name
            if not target.exists():
                os.replace(part, target)
                fsync_dir(target.parent)
        shutil.rmtree(staging)

    def _recover(self) -> None:
        """Roll committed transactions forward, drop uncommitted ones and stray temp files."""
        staging_root = self.path / ".staging"
        if staging_root.is_dir():
            for staging in sorted(p for p in staging_root.iterdir() if p.is_dir()):
                if (staging / COMMIT_MARKER).exists():
                    self._apply_staged(staging)
                else:
                    shutil.rmtree(staging)
        for tmp in (self.path / "tables").glob("*/.tmp-*.partial"):
            tmp.unlink(missing_ok=True)

    def _recover_if_idle(self) -> None:
        staging_root = self.path / ".staging"
        if not staging_root.is_dir() or not any(staging_root.iterdir()):
            return
        with contextlib.suppress(WorkspaceError), self.lock(timeout=0):
            pass  # lock() recovers; if another writer holds the lock it is mid-commit

    # -- reading ----------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per table and the label views."""
        con = duckdb.connect()
        for table in TABLES:
            glob = str(self.path / "tables" / table / "*.parquet").replace("'", "''")
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', union_by_name=true)"
            )
        from al_core.labels.policy import create_label_views

        create_label_views(con, self.config.label_policy)
        return con

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        con = self.connect()
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def stored_values(self, table: str, column: str, values: list[str]) -> set[str]:
        """The subset of ``values`` already present in ``table.column`` (one query)."""
        if table not in SCHEMAS or column not in SCHEMAS[table].names:
            raise KeyError(f"no column {column!r} in table {table!r}")
        df = self.query(
            f"SELECT DISTINCT {column} FROM {table} WHERE list_contains(?, {column})",
            [list(values)],
        )
        return set(df[column])

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        con = self.connect()
        try:
            row = con.execute(sql, params or []).fetchone()
            return row[0] if row else None
        finally:
            con.close()
