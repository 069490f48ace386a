"""``alflow check``: verify every table of a workspace and say how to repair what is wrong.

What is checked, table by table at the latest committed state:

- the Delta log opens and the commit log's marker names a version that exists;
- the table's columns and types match what this alflow expects (missing columns are only a
  note: the next write adds them);
- every data file the version needs exists and is a readable Parquet file whose row count
  matches the log's statistics (``deep=True`` also reads every row);
- tables left ahead of the marker by an interrupted transaction;
- every embedding cache opens and holds vectors of its declared dimension;
- label events whose item is not in the pool.

:func:`repair_workspace` fixes what can be fixed: it finishes or undoes an interrupted
transaction, and drops missing or unreadable data files from their table in one marked
transaction (an unreadable file is renamed to ``<name>.corrupt`` first, for forensics). Rows in
a dropped file are lost; the report says how many, so the user can re-import their source.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from al_core.storage import delta
from al_core.storage.commits import new_tx_id
from al_core.storage.schema import SCHEMAS, TABLES
from al_core.storage.workspace import Workspace


@dataclass
class Problem:
    severity: str  # error | warning | note
    table: str
    message: str
    repair: str = ""  # what `alflow check --repair` does about it ("" : nothing needed)


@dataclass
class CheckReport:
    workspace: str
    seq: int = -1
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def add(self, severity: str, table: str, message: str, repair: str = "") -> None:
        self.problems.append(Problem(severity, table, message, repair))

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "ok": self.ok,
            "seq": self.seq,
            "tables": self.tables,
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass
class _BadFile:
    path: str
    uri: str
    rows: int
    why: str  # missing | unreadable


def check_workspace(ws: Workspace, deep: bool = False) -> CheckReport:
    """Check ``ws`` without changing it; see the module docstring."""
    report = CheckReport(ws.uri)
    try:
        snapshot = ws._log.latest()
    except Exception as exc:  # noqa: BLE001 - report any failure to read the log
        report.add("error", "_commits", f"the commit log cannot be read: {_first_line(exc)}")
        return report
    report.seq = snapshot.seq
    for table in TABLES:
        _check_table(ws, table, snapshot.versions.get(table), report, deep)
    _check_embeddings(ws, report)
    if report.ok:
        _check_references(ws, report)
    return report


def _check_table(ws: Workspace, table: str, version: int | None, report: CheckReport, deep: bool):
    uri = ws.table_uri(table)
    if version is None:
        report.add("note", table, "table not created yet; the next write creates it")
        return
    try:
        dt = delta.open_table(uri, version, ws.location.storage_options)
    except Exception as exc:  # noqa: BLE001
        report.add("error", table, f"version {version} cannot be opened: {_first_line(exc)}")
        return
    schema = pa.schema(dt.schema())
    expected = SCHEMAS[table]
    for f in expected:
        if f.name not in schema.names:
            report.add("note", table, f"column {f.name!r} is missing; the next write adds it")
        elif not _compatible(schema.field(f.name).type, f.type):
            report.add(
                "error",
                table,
                f"column {f.name!r} is {schema.field(f.name).type}, expected {f.type}",
            )
    bad = bad_files(ws, dt, deep=deep)
    actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    rows = sum(int(a.get("num_records") or 0) for a in actions)
    report.tables[table] = {"version": version, "files": len(actions), "rows": rows}
    for b in bad:
        report.add(
            "error",
            table,
            f"data file {b.uri} is {b.why} ({b.rows} rows)",
            f"drop the file from the table ({b.rows} rows of {table} are lost; re-import "
            "their source)",
        )
    latest = delta.open_table(uri, None, ws.location.storage_options)
    if latest.version() > version:
        newer = delta.commits_after(ws.location, f"tables/{table}", version, latest.version())
        kinds = sorted({h.get(delta.META_KIND, h.get("operation", "?")) for h in newer})
        report.add(
            "warning",
            table,
            f"{latest.version() - version} commit(s) newer than the workspace's state "
            f"({', '.join(kinds)}) from an interrupted transaction",
            "finish or undo the interrupted transaction (any write does this too)",
        )


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    if actual == expected:
        return True
    if pa.types.is_list(actual) and pa.types.is_list(expected):
        return actual.value_type == expected.value_type
    return pa.types.is_timestamp(actual) and pa.types.is_timestamp(expected)


def bad_files(ws: Workspace, dt: Any, deep: bool = False) -> list[_BadFile]:
    """Data files of the open table ``dt`` that are missing or unreadable."""
    import pyarrow.parquet as pq
    from pyarrow import fs as pafs

    actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
    filesystem, base = pafs.FileSystem.from_uri(dt.table_uri.rstrip("/"))
    bad = []
    for a in actions:
        rel = a["path"]
        where = f"{base}/{rel}"
        uri = f"{dt.table_uri.rstrip('/')}/{rel}"
        rows = int(a.get("num_records") or 0)
        info = filesystem.get_file_info(where)
        if info.type == pafs.FileType.NotFound:
            bad.append(_BadFile(rel, uri, rows, "missing"))
            continue
        try:
            with filesystem.open_input_file(where) as fh:
                parquet = pq.ParquetFile(fh)
                if parquet.metadata.num_rows != rows and a.get("num_records") is not None:
                    raise ValueError("row count differs from the log")
                if deep:
                    parquet.read()
        except Exception:  # noqa: BLE001 - any read failure makes the file unreadable
            bad.append(_BadFile(rel, uri, rows, "unreadable"))
    return bad


def _check_embeddings(ws: Workspace, report: CheckReport) -> None:
    from al_core.embeddings import EmbeddingCache

    cache = EmbeddingCache(ws.location.child("embeddings"))
    try:
        model_ids = cache.model_ids()
    except Exception as exc:  # noqa: BLE001
        report.add(
            "error", "embeddings", f"the embedding cache cannot be listed: {_first_line(exc)}"
        )
        return
    for model_id in model_ids:
        try:
            n = cache.count(model_id)
            cache.lookup(model_id, [])
            report.tables[f"embeddings:{model_id}"] = {"rows": n}
        except Exception as exc:  # noqa: BLE001
            report.add(
                "error",
                f"embeddings:{model_id}",
                f"cached vectors cannot be read: {_first_line(exc)}",
                "",
            )


def _check_references(ws: Workspace, report: CheckReport) -> None:
    orphans = ws.scalar(
        "SELECT count(DISTINCT id) FROM label_events WHERE id NOT IN (SELECT id FROM pool)"
    )
    if orphans:
        report.add("warning", "label_events", f"{orphans} labelled ids are not in the pool")


def repair_workspace(ws: Workspace) -> list[str]:
    """Fix what :func:`check_workspace` can fix; returns one line per action taken."""
    from deltalake import CommitProperties

    done: list[str] = []
    with ws.lock():
        done.extend(r.message() for r in ws.recoveries)
        snapshot = ws._snapshot_for_write()
        broken: dict[str, list[_BadFile]] = {}
        for table in TABLES:
            dt = ws._latest_handle(table)
            bad = bad_files(ws, dt)
            if bad:
                broken[table] = bad
        if not broken:
            return done
        tx, seq = new_tx_id(), snapshot.seq + 1
        lost = {t: sum(b.rows for b in bad) for t, bad in broken.items()}
        summary = {"what": "a repair", "lost_rows": lost}
        meta = delta.commit_metadata(tx, seq, "repair", sorted(broken), summary)
        versions = dict(snapshot.versions)
        for table, bad in broken.items():
            dt = ws._latest_handle(table)
            for b in bad:
                if b.why == "unreadable":
                    _set_aside(ws, table, b.path)
            dt.repair(commit_properties=CommitProperties(custom_metadata=meta))
            versions[table] = dt.version()
            for b in bad:
                done.append(f"{table}: dropped {b.why} file {b.path} ({b.rows} rows lost)")
        ws._set_snapshot(ws._log.record(tx, seq, "repair", versions, summary))
    return done


def _set_aside(ws: Workspace, table: str, rel: str) -> None:
    key = f"tables/{table}/{rel}"
    with contextlib.suppress(FileNotFoundError, FileExistsError):
        ws.location.move(key, f"{key}.corrupt")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
