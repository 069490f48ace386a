"""A workspace: the config, the tables, the caches and the queue, in a folder or an object store.

Layout (relative to the workspace root, a local folder or ``s3://bucket/prefix``)::

    alflow.json                 config (label set, columns, active-learning defaults)
    tables/<table>/             Delta tables (schemas in storage/schema.py), append-only
    _alflow/commits/            the workspace commit log (see storage/commits.py)
    _alflow/lock/               the writer lease (object stores only)
    embeddings/<model>/         embedding cache (a Delta table per model)
    models/ queue/ reports/     artefacts of the pipeline
    .lock .run.lock             writer and run locks (local folders only)

Writes happen in transactions (:meth:`Workspace.transaction`): each table of the transaction
gets one Delta commit, then one marker in the commit log makes them all visible at once.
Readers (:meth:`Workspace.connect`, :meth:`query`) open every table at the latest marker's
versions through DuckDB, so they see each transaction wholly or not at all, never a directory
listing. A crash between the table commits and the marker is repaired by the next writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from al_core.errors import ConfigError, WorkspaceError
from al_core.storage import delta
from al_core.storage.commits import COMMITS_KEY, CommitLog, Recovery, Snapshot, new_tx_id, recover
from al_core.storage.config import CONFIG_NAME, WorkspaceConfig
from al_core.storage.location import Location
from al_core.storage.locks import FileLock, LeaseLock
from al_core.storage.schema import SCHEMAS, TABLES

if TYPE_CHECKING:  # pandas loads on first use: `alflow status` never needs it
    import pandas as pd

LOCK_TIMEOUT_S = float(os.environ.get("ALFLOW_LOCK_TIMEOUT", "30"))
LEASE_KEY = "_alflow/lock"
# Compact a table once this many data files have accumulated (appends add one file each).
# 16: after 1,000 label imports and 1,000 iterations a table holds 8 files on average; at 64,
# ``alflow status`` did twice the work of a fresh workspace's (benchmarks/scale.py).
COMPACT_AT_FILES = int(os.environ.get("ALFLOW_COMPACT_AT_FILES", "16"))

log = logging.getLogger("al_core.storage")


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
    elif not isinstance(data, pa.Table):  # a pandas DataFrame
        data = pa.Table.from_pandas(data, preserve_index=False)
    missing = [f.name for f in schema if f.name not in data.column_names]
    for col in missing:
        data = data.append_column(col, pa.nulls(data.num_rows, type=schema.field(col).type))
    extra = set(data.column_names) - set(schema.names)
    if extra:
        raise ValueError(f"table {name!r} has no columns {sorted(extra)}")
    return data.select(schema.names).cast(schema)


class Transaction:
    """Rows to append to several tables atomically; see the module docstring."""

    def __init__(self, workspace: Workspace, kind: str = "write", what: str = "") -> None:
        self.workspace = workspace
        self.kind = kind
        self.what = what
        self.parts: list[tuple[str, pa.Table]] = []
        self.snapshot: Snapshot | None = None  # the marker written by commit()

    def append(self, table: str, rows: pd.DataFrame | pa.Table | list[dict[str, Any]]) -> None:
        if table not in SCHEMAS:
            raise KeyError(f"unknown table {table!r}")
        t = to_table(table, rows)
        if t.num_rows:
            self.parts.append((table, t))

    def commit(self) -> Snapshot | None:
        if not self.parts:
            return None
        self.snapshot = self.workspace._commit(self.parts, self.kind, self.what)
        return self.snapshot


class Workspace:
    """Open with :meth:`Workspace.open` or create with :meth:`Workspace.init`."""

    def __init__(self, location: Location | str | Path, config: WorkspaceConfig) -> None:
        self.location = location if isinstance(location, Location) else Location(location)
        self.config = config
        self.recoveries: list[Recovery] = []
        self._log = CommitLog(self.location)
        self._handles: dict[str, Any] = {}  # table -> latest open DeltaTable (writers)
        self._datasets: dict[str, tuple[int, Any]] = {}  # table -> (version, Arrow dataset)
        self._files: dict[tuple[str, int], list[str] | None] = {}  # (table, version) -> files
        if self.location.remote:
            self._writer_lock: FileLock | LeaseLock = _lease_for(self.location, LEASE_KEY)
        else:
            self._writer_lock = FileLock(self.location.local(".lock"))

    def __repr__(self) -> str:
        return f"Workspace({self.uri!r})"

    @property
    def uri(self) -> str:
        return self.location.uri

    @property
    def path(self) -> Path:
        """The local folder of a local workspace (object-store workspaces have none)."""
        return self.location.local()

    def table_uri(self, table: str) -> str:
        return self.location.uri_of("tables", table)

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | Path, config: WorkspaceConfig) -> Workspace:
        loc = Location(path)
        if loc.is_file(CONFIG_NAME):
            raise WorkspaceError(f"{loc} is already an alflow workspace")
        loc.check_delta_safe()
        if loc.local_path is not None and loc.local_path.exists() and not loc.local_path.is_dir():
            raise WorkspaceError(f"{loc} exists and is not a folder")
        if not loc.is_empty():
            raise WorkspaceError(f"{loc} is not empty; choose a new or empty folder")
        loc.makedirs()
        ws = cls(loc, config)
        versions = {}
        for table in TABLES:
            versions[table] = delta.create_table(
                ws.table_uri(table), SCHEMAS[table], loc.storage_options
            ).version()
        ws._log.create(versions)
        for sub in ("embeddings", "models", "queue", "reports"):
            loc.makedirs(sub)
        loc.write_json(CONFIG_NAME, config.to_dict())  # last: until now it is no workspace
        return ws

    @classmethod
    def open(cls, path: str | Path, recover: bool = True) -> Workspace:
        """Open an existing workspace.

        ``recover``: repair a crashed writer's leftovers now if no writer is busy (local
        workspaces). Readers never see leftovers, and every writer repairs under its lock
        first, so code that opens the workspace again and again inside one run (the flow's
        tasks, each scoring partition) passes False and skips the lock and the log reads.
        """
        loc = Location(path)
        if not loc.is_file(CONFIG_NAME):
            raise WorkspaceError(
                f"{loc} is not an alflow workspace (no {CONFIG_NAME}); "
                f"create one with `alflow init {loc} --labels ...`"
            )
        loc.check_delta_safe()
        config = _load_config(loc)
        ws = cls(loc, config)
        if not ws._log.exists():
            if loc.exists("tables"):
                raise WorkspaceError(
                    f"{loc} was written by an older alflow (Parquet parts without a commit "
                    f"log); convert it once with `alflow migrate {loc}`"
                )
            raise WorkspaceError(f"{loc} is damaged: its commit log {COMMITS_KEY} is missing")
        if recover and not loc.remote:
            ws._recover_if_idle()
        return ws

    def _recover_if_idle(self) -> None:
        """Repair a crashed writer's leftovers now, unless another writer is busy.

        Local workspaces only: the check is a few directory listings under a ``flock``. On an
        object store taking the lease costs two commits, so there the next writer repairs
        (readers never see the leftovers either way).
        """
        with contextlib.suppress(WorkspaceError), self.lock(timeout=0):
            pass

    def save_config(self) -> None:
        with self.lock():
            self.location.write_json(CONFIG_NAME, self.config.to_dict())

    # -- locks ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the workspace's writer lock (re-entrant per thread, per workspace location).

        Taking it repairs whatever a crashed writer left (see :mod:`al_core.storage.commits`)
        and logs what was repaired.
        """
        timeout = LOCK_TIMEOUT_S if timeout is None else timeout
        with self._writer_lock.hold(timeout) as first:
            if not first:
                yield
                return
            try:
                self._set_snapshot(self._repair())
                yield
            finally:
                _WRITER_SNAPSHOTS.pop(self.uri, None)

    def _snapshot_for_write(self) -> Snapshot:
        """The state a writer builds on; only valid while the writer lock is held."""
        return _WRITER_SNAPSHOTS[self.uri]

    def _set_snapshot(self, snapshot: Snapshot) -> None:
        _WRITER_SNAPSHOTS[self.uri] = snapshot

    def _repair(self) -> Snapshot:
        snapshot = self._log.latest()
        suspects = [t for t in TABLES if self._maybe_ahead(t, snapshot)]
        openers = {t: (lambda t=t: self._latest_handle(t)) for t in suspects}
        snapshot, recovery = recover(self._log, openers, snapshot)
        if recovery is not None:
            self.recoveries.append(recovery)
            log.warning("%s: %s", self.uri, recovery.message())
        return snapshot

    def _maybe_ahead(self, table: str, snapshot: Snapshot) -> bool:
        """Whether ``table`` may hold commits the snapshot does not mark, so that recovery must
        open it. On the local disk the names in its log folder tell, without opening it (every
        command checks every table: on a 1M workspace aged by 1,000 iterations opening them all
        took 0.35-0.8 s); on an object store, or without a log, it is opened."""
        if self.location.remote:
            return True
        version = delta.local_version(self.location.local("tables", table))
        return version is None or version != snapshot.versions.get(table, 0)

    @contextlib.contextmanager
    def run_lock(self, what: str = "an iteration") -> Iterator[None]:
        """One pipeline run at a time per workspace (separate from the short writer lock).

        Local file lock; for an object-store workspace it guards this machine only, and the
        iteration's record re-checks under the writer lock that no other run recorded first.
        """
        if self.location.remote:
            path = self.location.cache_dir() / ".run.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            path = self.location.local(".run.lock")
        lock = FileLock(path, what)
        try:
            ctx = lock.hold(timeout=0)
            ctx.__enter__()
        except WorkspaceError:
            raise WorkspaceError(
                f"{what} is already running on workspace {self.uri}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            ctx.__exit__(None, None, None)

    @contextlib.contextmanager
    def transaction(self, kind: str = "write", what: str = "") -> Iterator[Transaction]:
        """Collect appends; they become visible together when the block exits without error."""
        with self.lock():
            tx = Transaction(self, kind, what)
            yield tx
            tx.commit()

    # -- writing ----------------------------------------------------------------------------
    def _latest_handle(self, table: str):
        dt = self._handles.get(table)
        if dt is None:
            uri = self.table_uri(table)
            from deltalake import DeltaTable

            if not DeltaTable.is_deltatable(uri, storage_options=self.location.storage_options):
                # A table added by a newer alflow than the one that created the workspace.
                delta.create_table(uri, SCHEMAS[table], self.location.storage_options)
            dt = delta.open_table(uri, storage_options=self.location.storage_options)
            self._handles[table] = dt
        else:
            dt.update_incremental()
        return dt

    def _commit(self, parts: list[tuple[str, pa.Table]], kind: str, what: str) -> Snapshot:
        with self.lock():
            snapshot = self._snapshot_for_write()
            grouped: dict[str, list[pa.Table]] = defaultdict(list)
            for table, data in parts:
                grouped[table].append(data)
            tables = sorted(grouped)
            tx, seq = new_tx_id(), snapshot.seq + 1
            summary = {"what": what or f"a {kind}", "rows": {}}
            summary["rows"] = {t: sum(p.num_rows for p in grouped[t]) for t in tables}
            meta = delta.commit_metadata(tx, seq, kind, tables, summary)
            versions = dict(snapshot.versions)
            try:
                for k, table in enumerate(tables):
                    dt = self._latest_handle(table)
                    missing = delta.missing_columns(dt, SCHEMAS[table])
                    if missing:
                        delta.add_columns(dt, missing, meta)
                    versions[table] = delta.append(dt, pa.concat_tables(grouped[table]), meta)
                    if k == 0:
                        crashpoint("staged-part")
                crashpoint("committed")
                if isinstance(self._writer_lock, LeaseLock) and not self._writer_lock.still_held():
                    raise WorkspaceError(
                        f"lost the writer lease on {self.uri} (another writer took it after it "
                        "expired); nothing was committed"
                    )
                new = self._log.record(tx, seq, kind, versions, summary)
            except BaseException:
                # Undo the table commits of this transaction before anyone builds on them.
                with contextlib.suppress(Exception):
                    openers = {t: (lambda t=t: self._latest_handle(t)) for t in TABLES}
                    self._set_snapshot(recover(self._log, openers, snapshot)[0])
                raise
            self._set_snapshot(new)
            self._maybe_compact(tables)
            return self._snapshot_for_write()

    def _maybe_compact(self, tables: list[str]) -> None:
        busy = [t for t in tables if len(self._latest_handle(t).file_uris()) >= COMPACT_AT_FILES]
        if busy:
            self.compact(busy)

    def compact(self, tables: list[str] | None = None) -> dict[str, int]:
        """Merge each table's small files into few large ones (one marked transaction).

        Readers of older versions keep working (the old files stay until :meth:`vacuum`).
        Returns the number of files removed per table.
        """
        from deltalake import CommitProperties

        with self.lock():
            snapshot = self._snapshot_for_write()
            todo = [t for t in (tables or TABLES) if len(self._latest_handle(t).file_uris()) > 1]
            if not todo:
                return {}
            tx, seq = new_tx_id(), snapshot.seq + 1
            summary = {"what": "a compaction"}
            meta = delta.commit_metadata(tx, seq, "compact", todo, summary)
            versions = dict(snapshot.versions)
            removed: dict[str, int] = {}
            for k, table in enumerate(todo):
                dt = self._latest_handle(table)
                metrics = dt.optimize.compact(
                    commit_properties=CommitProperties(custom_metadata=meta)
                )
                versions[table] = dt.version()
                removed[table] = int(metrics.get("numFilesRemoved", 0))
                if k == 0:
                    crashpoint("compact-part")
            crashpoint("compacted")
            self._set_snapshot(self._log.record(tx, seq, "compact", versions, summary))
            return removed

    def vacuum(self, retention_hours: float = 168.0) -> dict[str, int]:
        """Delete data files no version newer than ``retention_hours`` needs (default 7 days).

        Time travel to versions older than the retention stops working for those files.
        """
        deleted: dict[str, int] = {}
        with self.lock():
            for table in TABLES:
                dt = self._latest_handle(table)
                files = dt.vacuum(
                    retention_hours=int(retention_hours),
                    enforce_retention_duration=False,
                    dry_run=False,
                )
                deleted[table] = len(files)
        return deleted

    # -- reading ----------------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        """Every committed transaction (seq, tx, kind, versions, summary, created_at)."""
        return self._log.history()

    def snapshot(self) -> Snapshot:
        """The latest committed state (the writer's own, inside a transaction)."""
        if self._writer_lock.held_by_me():
            return _WRITER_SNAPSHOTS.get(self.uri) or self._log.latest()
        return self._log.latest()

    def _dataset(self, table: str, version: int):
        cached = self._datasets.get(table)
        if cached is not None and cached[0] == version:
            return cached[1]
        dt = delta.open_table(
            self.table_uri(table), version, storage_options=self.location.storage_options
        )
        ds = dt.to_pyarrow_dataset()
        self._datasets[table] = (version, ds)
        return ds

    def _local_files(self, table: str, version: int) -> list[str] | None:
        """The data files of ``table`` at ``version`` as local paths that DuckDB can read
        directly, or None (object stores, or paths DuckDB would take for glob patterns)."""
        if self.location.remote:
            return None
        key = (table, version)
        if key not in self._files:
            dt = self._handles.get(table)  # the writer's handle, opened on repair
            if dt is None or dt.version() != version:
                dt = delta.open_table(self.table_uri(table), version)
            files = [u[len("file://") :] if u.startswith("file://") else u for u in dt.file_uris()]
            ok = all(f.startswith("/") and not set(f) & set("*?[]{}") for f in files)
            self._files[key] = files if ok else None
        return self._files[key]

    @staticmethod
    def _parquet_view(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> None:
        """``table`` as a view over DuckDB's own Parquet reader of ``files``.

        Measured on a million-item pool: joining the 1,000 labelled items with their texts took
        1.0 s this way against 2.2-3.2 s through the Arrow dataset (DuckDB's reader skips what
        a query does not need), and counts are answered from the file metadata.
        """
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        source = f"read_parquet([{listed}], union_by_name = true)"
        have = set(con.sql(f"SELECT * FROM {source} LIMIT 0").columns)
        cols = ", ".join(
            f'"{f.name}"' if f.name in have else _null_column(f) for f in SCHEMAS[table]
        )
        with contextlib.suppress(duckdb.Error):
            con.unregister(table)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {cols} FROM {source}")

    def connect(self, snapshot: Snapshot | None = None) -> duckdb.DuckDBPyConnection:
        """A new in-memory DuckDB connection with one view per table and the label views.

        Every table is read at the versions of ``snapshot`` (default: the latest marker). The
        caller closes it; :meth:`query`, :meth:`scalar` and :meth:`reading` reuse a cached
        connection per thread instead (opening one costs tens of milliseconds).
        """
        con = duckdb.connect()
        self._sync_views(con, {}, snapshot or self.snapshot())
        return con

    @contextlib.contextmanager
    def reading(self, snapshot: Snapshot | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's cached connection, its views at ``snapshot`` (default: the latest).

        A missing or unreadable data file raises a one-line :class:`WorkspaceError`.
        """
        key = (self.uri, self.config.label_policy, threading.get_ident())
        con, registered = _CONNECTIONS.get(key) or (None, {})
        if con is None:
            con = duckdb.connect()
            _CONNECTIONS[key] = (con, registered)
        # A result a caller left unfetched (``fetchone``) would block registering a table.
        con.abort()
        try:
            self._sync_views(con, registered, snapshot or self.snapshot())
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            _CONNECTIONS.pop(key, None)  # half-registered: start afresh next time
            con.close()
            raise self.explain_read_error(exc) from exc
        try:
            yield con
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            raise self.explain_read_error(exc) from exc

    def _sync_views(
        self, con: duckdb.DuckDBPyConnection, registered: dict[str, int], snapshot: Snapshot
    ) -> None:
        """(Re)register each table whose version differs from what ``con`` has."""
        fresh = not registered
        for table in TABLES:
            version = snapshot.versions.get(table, -1)
            if registered.get(table) == version:
                continue
            files = self._local_files(table, version) if version >= 0 else []
            if version < 0 or files == []:  # no rows yet: an empty view of the schema
                with contextlib.suppress(duckdb.Error):
                    con.unregister(table)
                cols = ", ".join(_null_column(f) for f in SCHEMAS[table])
                con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {cols} WHERE false")
            elif files is not None:
                self._parquet_view(con, table, files)
            else:
                ds = self._dataset(table, version)
                missing = [f for f in SCHEMAS[table] if f.name not in ds.schema.names]
                if missing:  # written before a column existed: the view adds it as NULL
                    con.register(f"_raw_{table}", ds)
                    cols = ", ".join(
                        _null_column(f) if f in missing else f'"{f.name}"' for f in SCHEMAS[table]
                    )
                    con.execute(
                        f"CREATE OR REPLACE VIEW {table} AS SELECT {cols} FROM _raw_{table}"
                    )
                else:
                    with contextlib.suppress(duckdb.Error):
                        con.execute(f"DROP VIEW IF EXISTS {table}")
                    con.register(table, ds)
            registered[table] = version
        if fresh:
            from al_core.labels.policy import create_label_views

            create_label_views(con, self.config.label_policy)

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with self.reading() as con:
            return con.execute(sql, params or []).df()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """The result as tuples (no pandas: what ``alflow status`` reads)."""
        with self.reading() as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        with self.reading() as con:
            row = con.execute(sql, params or []).fetchone()
            return row[0] if row else None

    def stored_values(self, table: str, column: str, values: list[str]) -> set[str]:
        """The subset of ``values`` already present in ``table.column`` (one query)."""
        return set(self.lookup(table, column, values, [column], distinct=True)[column])

    def lookup(
        self,
        table: str,
        column: str,
        values: list[str],
        columns: list[str],
        distinct: bool = False,
    ) -> pd.DataFrame:
        """``columns`` of the rows of ``table`` whose ``column`` is one of ``values``.

        A hash join against the values (registered as an Arrow table): checking 1,000 ids
        against a million-row pool this way is one scan, where ``list_contains(?, id)`` compares
        every row with every value.
        """
        for name in [column, *columns]:
            if table not in SCHEMAS or name not in SCHEMAS[table].names:
                raise KeyError(f"no column {name!r} in table {table!r}")
        wanted = pa.table({column: pa.array(list(dict.fromkeys(values)), pa.string())})
        cols = ", ".join(f"t.{c}" for c in columns)
        with self.reading() as con:
            con.register("_lookup_values", wanted)
            try:
                return con.execute(
                    f"SELECT {'DISTINCT ' if distinct else ''}{cols} FROM {table} t "
                    f"WHERE t.{column} IN (SELECT {column} FROM _lookup_values)"
                ).df()
            finally:
                con.unregister("_lookup_values")

    def explain_read_error(self, exc: BaseException) -> BaseException:
        """A one-line :class:`WorkspaceError` for a missing or unreadable data file."""
        text = str(exc)
        table = re.search(r"registered as '(?:_raw_)?([a-z_]+)'", text) or re.search(
            r"tables/([a-z_]+)/", text
        )
        name = re.search(r"([^\s'\"/]+\.parquet)", text)
        if table is None or name is None:
            return exc
        missing = "No such file" in text or "not found" in text.lower()
        return WorkspaceError(
            f"table {table.group(1)} of workspace {self.uri}: data file {name.group(1)} is "
            f"{'missing' if missing else 'unreadable'}; run `alflow check {self.uri}` to see "
            "the damage and how to repair it"
        )


_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
}


def _null_column(field: pa.Field) -> str:
    """A SQL select item: NULL of ``field``'s type, named as the field."""
    return f'NULL::{_duck_type(field.type)} AS "{field.name}"'


def _duck_type(t: pa.DataType) -> str:
    """DuckDB's SQL name for an Arrow type of the table schemas.

    Spelled out rather than asked of DuckDB: handing DuckDB any Arrow object imports pandas
    (half a second), which ``alflow status`` would otherwise pay for its empty tables.
    """
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{_duck_type(t.value_type)}[]"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if t not in _DUCK_TYPES:
        raise TypeError(f"no DuckDB type for the Arrow type {t}")
    return _DUCK_TYPES[t]


def _load_config(loc: Location) -> WorkspaceConfig:
    import json

    try:
        data = loc.read_json(CONFIG_NAME)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{loc.uri_of(CONFIG_NAME)} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{loc.uri_of(CONFIG_NAME)} must hold a JSON object")
    return WorkspaceConfig.from_dict(data)


_LEASES: dict[str, LeaseLock] = {}
# The state each writer builds on, per workspace URI, set while its lock is held (shared by
# every Workspace object of that location in the process, as the lock is).
_WRITER_SNAPSHOTS: dict[str, Snapshot] = {}
# Cached reader connections per (workspace URI, label policy, thread), with the table
# versions each has registered.
_CONNECTIONS: dict[tuple[str, str, int], tuple[duckdb.DuckDBPyConnection, dict[str, int]]] = {}


def _lease_for(location: Location, key: str) -> LeaseLock:
    """One lease object per lock URI in a process, so re-entrancy spans Workspace objects."""
    uri = location.uri_of(key)
    if uri not in _LEASES:
        _LEASES[uri] = LeaseLock(location, key)
    return _LEASES[uri]
