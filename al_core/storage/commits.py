"""The workspace commit log: which version of every table belongs to the workspace's state.

Delta Lake makes each table's commit atomic, but no commit spans two tables. A workspace
transaction (an ingest, a label import, an iteration's record) therefore commits to each of its
tables in turn and then appends one *marker* to ``_alflow/commits``, a small Delta table of its
own: ``seq`` (1, 2, 3 ...), the transaction id and kind, and the version of every table after
it. The marker is the commit point:

- readers open every table at the versions of the latest marker, so they never see half of a
  transaction, nor a table version that no marker names;
- a writer that finds a table ahead of the latest marker (a crash between the table commits
  and the marker) repairs it before writing: if the newer versions are exactly one transaction's
  commits to all of the tables it declared, that transaction is *rolled forward* (its marker is
  written now); otherwise every table ahead is *rolled back* (Delta ``restore``) to the marker's
  version. Either way the workspace holds each transaction wholly or not at all.

The marker's versions also sit in the marker commit's metadata, so the latest state is read
from the log without scanning data files.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from al_core.storage import delta
from al_core.storage.delta import META_KIND, META_SEQ, META_SUMMARY, META_TABLES, META_TX

COMMITS_KEY = "_alflow/commits"
COMMITS_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("tx", pa.string()),
        ("kind", pa.string()),
        ("versions", pa.string()),  # JSON {table: version}
        ("summary", pa.string()),  # JSON
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Snapshot:
    """The committed state: marker ``seq`` and the version of each table."""

    seq: int
    versions: dict[str, int]
    tx: str = ""
    kind: str = "init"


@dataclass
class Recovery:
    """What a writer repaired before its own transaction (for the user's report)."""

    action: str  # "rolled forward" | "rolled back"
    kind: str  # the interrupted transaction's kind (ingest, labels, iteration ...)
    tables: dict[str, int] = field(default_factory=dict)  # rows added per table
    summary: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        rows = ", ".join(f"{n} {t} rows" for t, n in sorted(self.tables.items()) if n)
        what = self.summary.get("what") or f"an interrupted {self.kind}"
        if self.action == "rolled forward":
            return f"recovered {what} left by a crashed run ({rows or 'no rows'}); it is now stored"
        return (
            f"rolled back {what} left unfinished by a crashed run ({rows or 'no rows'} discarded)"
        )


def new_tx_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


class CommitLog:
    """The ``_alflow/commits`` table of one workspace (``location`` is the workspace root)."""

    def __init__(self, location: Any) -> None:
        self.location = location
        self.uri = location.uri_of(COMMITS_KEY)
        self.storage_options = location.storage_options
        self._dt = None

    def create(self, versions: dict[str, int]) -> Snapshot:
        delta.create_table(self.uri, COMMITS_SCHEMA, self.storage_options)
        return self.record(new_tx_id(), 0, "init", versions, {"what": "workspace creation"})

    def exists(self) -> bool:
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(self.uri, storage_options=self.storage_options)

    def _table(self):
        if self._dt is None:
            self._dt = delta.open_table(self.uri, storage_options=self.storage_options)
        else:
            self._dt.update_incremental()
        return self._dt

    def latest(self) -> Snapshot:
        """The latest marker (read from the commit log's metadata, no data file scan)."""
        dt = self._table()
        latest = dt.version()
        for version in range(latest, max(latest - 20, -1), -1):
            entry = delta.commit_info(self.location, COMMITS_KEY, version)
            if delta.META_VERSIONS in entry:
                return Snapshot(
                    seq=int(entry[META_SEQ]),
                    versions={k: int(v) for k, v in json.loads(entry[delta.META_VERSIONS]).items()},
                    tx=entry.get(META_TX, ""),
                    kind=entry.get(META_KIND, ""),
                )
        from al_core.errors import WorkspaceError

        raise WorkspaceError(f"{self.uri}: the commit log has no marker; run `alflow check`")

    def record(
        self, tx: str, seq: int, kind: str, versions: dict[str, int], summary: dict[str, Any]
    ) -> Snapshot:
        """Append the marker of transaction ``tx``: from now on readers see ``versions``."""
        row = pa.table(
            {
                "seq": [seq],
                "tx": [tx],
                "kind": [kind],
                "versions": [json.dumps(versions, sort_keys=True)],
                "summary": [json.dumps(summary, default=str)],
                "created_at": [datetime.now(UTC)],
            },
            schema=COMMITS_SCHEMA,
        )
        meta = delta.commit_metadata(tx, seq, kind, ["_commits"], summary)
        meta[delta.META_VERSIONS] = json.dumps(versions, sort_keys=True)
        dt = self._table()
        delta.append(dt, row, meta, retries=0)
        return Snapshot(seq, dict(versions), tx, kind)

    def history(self) -> list[dict[str, Any]]:
        """Every marker, oldest first (for ``alflow log`` and audits)."""
        dt = self._table()
        rows = dt.to_pyarrow_table().to_pylist()
        return sorted(rows, key=lambda r: r["seq"])


def recover(
    log: CommitLog, tables: dict[str, Callable[[], Any]], snapshot: Snapshot
) -> tuple[Snapshot, Recovery | None]:
    """Repair tables left ahead of ``snapshot`` by a crashed transaction (see module docstring).

    ``tables`` maps each table name to a function returning its latest open Delta table
    (stored under ``tables/<name>``). Must be called under the workspace's writer lock.
    Returns the new snapshot and what was done.
    """
    ahead: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for name, opener in tables.items():
        dt = opener()
        base = snapshot.versions.get(name, 0)
        if dt.version() > base:
            hist = delta.commits_after(log.location, f"tables/{name}", base, dt.version())
            ahead[name] = (dt, hist)
    if not ahead:
        return snapshot, None

    commits = [c for _, hist in ahead.values() for c in hist]
    txs = {c.get(META_TX) for c in commits}
    first = commits[0]
    declared = set(filter(None, first.get(META_TABLES, "").split(",")))
    rolled_forward = (
        len(txs) == 1
        and None not in txs
        and all(len(hist) == 1 for _, hist in ahead.values())
        and declared == set(ahead)
    )
    summary = json.loads(first.get(META_SUMMARY) or "{}")
    kind = first.get(META_KIND, "transaction")
    rows = {
        name: sum(int(c.get("operationMetrics", {}).get("num_added_rows", 0)) for c in hist)
        for name, (_, hist) in ahead.items()
    }
    versions = dict(snapshot.versions)
    if rolled_forward:
        tx = first[META_TX]
        for name, (dt, _) in ahead.items():
            versions[name] = dt.version()
        action = "rolled forward"
    else:
        tx = new_tx_id()
        meta = delta.commit_metadata(tx, snapshot.seq + 1, "rollback", sorted(ahead))
        from deltalake import CommitProperties

        for name, (dt, _) in ahead.items():
            dt.restore(
                snapshot.versions.get(name, 0),
                commit_properties=CommitProperties(custom_metadata=meta),
            )
            versions[name] = dt.version()
        action = "rolled back"
    recovery = Recovery(action, kind, rows, summary)
    record_summary = {"what": f"{action}: {recovery.message()}", "recovered": summary}
    new = log.record(tx, snapshot.seq + 1, "recovery", versions, record_summary)
    return new, recovery
