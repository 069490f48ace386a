"""Import annotators' labels into the label history: validated, de-duplicated, counted.

Two entry points share one path: :func:`import_label_file` reads a label file (Label Studio
JSON / JSON-MIN, CSV, JSONL: :func:`al_core.queues.read_label_file`); :func:`import_label_rows`
takes a table of parsed annotations from any source (:func:`al_core.queues.label_rows`), e.g. a
Label Studio server.

1. Checks that need only the rows (the row parsed, its labels are in the label set) run before
   the workspace lock is taken, so a big file does not block other writers while it is read.
2. Under the lock: the row's id is in the pool; a file imported before (same sha256) adds
   nothing; an annotation stored before adds nothing. Annotations are the same when their
   ``external_key`` matches (Label Studio's annotation id and version) or their content does
   (item, label set, annotator, skip, ``annotated_at``: :func:`al_core.queues.content_key`,
   computed for stored events from their columns too, so events stored before content keys
   existed are recognised). A CSV re-saved with CRLF line ends or its rows reordered therefore
   adds nothing, and cannot override a newer relabel.
3. Accepted rows become label events (with the annotation's own time, ``annotated_at``, where
   the format has one); rejected rows go to quarantine with the reason. One transaction.

Which label is current follows :mod:`al_core.labels.policy` (the annotation's own time first).
A row that repeats, without a time, a label its annotator has since changed is recognised as
already imported and is *not* applied again (the report counts it as ``outdated_repeats``):
without a time alflow cannot tell a revert from an old file imported again, and the latter must
never undo a newer label. Giving such rows a time makes them new annotations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from al_core.errors import InputFileError
from al_core.ingest.readers import file_sha256 as sha256_of
from al_core.labels import label_problem
from al_core.labels.policy import annotator_labels_sql, current_labels_sql
from al_core.queues import (
    LABEL_ROW_COLUMNS,
    LabelFileError,
    LabelRows,
    content_key,
    read_label_file,
)
from al_core.storage import SCHEMAS, Workspace, utcnow


@dataclass
class LabelImportReport:
    """What an import did. Row counts: each accepted row is exactly one of ``new`` (the item had
    no label), ``changed`` (it changed the item's current label), ``unchanged`` (the item had
    this label already), ``overruled`` (stored in the history, but the current label stays: it
    is older than the current one, or outvoted) or ``skipped``; the others are ``rejected`` or
    ``already_imported``. ``items_changed`` counts items whose current label is different now.
    """

    source: str
    file_sha256: str | None
    batch: str | None = None
    n_rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    overruled: int = 0
    skipped: int = 0
    rejected: int = 0
    already_imported: int = 0  # rows whose annotation was stored by an earlier import
    outdated_repeats: int = 0  # of those: a label their annotator has since changed
    items_changed: int = 0
    file_seen_before: bool = False
    reasons: Counter = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return self.new + self.changed + self.unchanged + self.overruled + self.skipped

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["reasons"] = dict(self.reasons)
        return d

    def summary(self) -> str:
        return describe_import(self.to_dict())


def describe_import(report: dict[str, Any]) -> str:
    """One line for a :class:`LabelImportReport` (as a dict, the form flows return it in)."""
    if report.get("file_seen_before"):
        return f"{report['source']}: imported before, nothing added"
    text = (
        f"{report['source']}: {report['new']} new, {report['changed']} changed, "
        f"{report['unchanged']} unchanged, {report['skipped']} skipped, "
        f"{report['rejected']} rejected"
    )
    notes = []
    if report.get("overruled"):
        notes.append(f"{report['overruled']} kept in the history but older than the current label")
    if report.get("already_imported"):
        notes.append(f"{report['already_imported']} already imported")
    if report.get("outdated_repeats"):
        notes.append(
            f"{report['outdated_repeats']} of them repeat a label their annotator has since "
            "changed and were not applied again (give such rows a time to apply them)"
        )
    return text + (f" ({'; '.join(notes)})" if notes else "")


def import_label_file(
    ws: Workspace, path: str | Path, *, source: str = "queue"
) -> LabelImportReport:
    """Import the label file ``path`` into ``ws``; see the module docstring.

    Raises ``InputFileError`` when the file cannot be read at all.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    sha = sha256_of(path)
    if _file_seen(ws, sha):  # checked again under the lock
        return LabelImportReport(str(path), sha, file_seen_before=True)
    try:
        rows = read_label_file(path)
    except LabelFileError as exc:
        raise InputFileError(str(exc)) from None
    return import_label_rows(ws, rows, origin=str(path), source=source, file_sha256=sha)


def import_label_rows(
    ws: Workspace,
    rows: LabelRows,
    *,
    origin: str,
    source: str = "queue",
    file_sha256: str | None = None,
) -> LabelImportReport:
    """Import parsed annotations into ``ws``; see the module docstring.

    ``rows`` has the columns of :data:`al_core.queues.LABEL_ROW_COLUMNS` (``id`` and ``labels``
    are required; ``annotator``, ``skipped``, ``annotated_at``, ``external_key``, ``row`` and
    ``error`` get defaults). ``origin`` names where they came from (a path, a URL) in the report
    and the quarantine; ``source`` is the events' source tag; ``file_sha256`` makes a second
    import of the same file a no-op.
    """
    rows = _complete(rows)
    report = LabelImportReport(origin, file_sha256, n_rows=len(rows))
    label_set = ws.config.label_set
    # Checks that need only the rows, before the lock.
    reasons = pd.Series(
        [
            error
            if isinstance(error, str)
            else (None if skipped else label_problem(list(labels), label_set))
            for error, labels, skipped in zip(
                rows["error"], rows["labels"], rows["skipped"], strict=True
            )
        ],
        dtype=object,
    )
    with ws.lock():
        if file_sha256 is not None and _file_seen(ws, file_sha256):
            report.file_seen_before = True
            report.n_rows = 0
            return report
        report.batch = f"labels-{utcnow():%Y%m%dT%H%M%S%f}-{(file_sha256 or 'rows')[:8]}"
        con = ws.connect()
        try:
            _store(ws, con, rows, reasons, report, source=source)
        finally:
            con.close()
    return report


def _file_seen(ws: Workspace, sha: str) -> bool:
    return bool(
        ws.scalar(
            "SELECT count(*) FROM ingest_log WHERE kind = 'labels' AND file_sha256 = ?", [sha]
        )
    )


def _complete(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``rows`` with every column of LABEL_ROW_COLUMNS and the content keys."""
    missing = {"id", "labels"} - set(rows.columns)
    if missing:
        raise ValueError(f"label rows need the columns {sorted(missing)}")
    rows = rows.reset_index(drop=True).copy()
    n = len(rows)
    defaults = {
        "annotator": "unknown",
        "skipped": False,
        "annotated_at": pd.NaT,
        "external_key": None,
        "row": np.arange(1, n + 1),
        "error": None,
    }
    for name, value in defaults.items():
        if name not in rows.columns:
            rows[name] = value
    rows["id"] = rows["id"].fillna("").astype(str)
    rows["labels"] = pd.Series(
        [list(v) if isinstance(v, list | tuple | np.ndarray) else [] for v in rows.labels],
        index=rows.index,
        dtype=object,
    )
    rows["annotator"] = rows["annotator"].fillna("unknown").astype(str)
    rows["skipped"] = rows["skipped"].fillna(False).astype(bool)
    rows["annotated_at"] = pd.to_datetime(rows["annotated_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    rows["content_key"] = [
        content_key(i, ls, a, s, t)
        for i, ls, a, s, t in zip(
            rows.id, rows.labels, rows.annotator, rows.skipped, rows.annotated_at, strict=True
        )
    ]
    keys = rows["external_key"].astype(object)
    rows["external_key"] = keys.where(keys.notna() & (keys != ""), rows["content_key"])
    return rows[[*LABEL_ROW_COLUMNS, "content_key"]]


def _store(
    ws: Workspace,
    con: Any,
    rows: pd.DataFrame,
    reasons: pd.Series,
    report: LabelImportReport,
    *,
    source: str,
) -> None:
    policy = ws.config.label_policy
    ids = sorted(set(rows.loc[reasons.isna(), "id"]) - {""})
    known = set(con.execute("SELECT id FROM pool WHERE list_contains(?, id)", [ids]).df().id)
    unknown = reasons.isna() & ~rows["id"].isin(known)
    reasons = reasons.where(~unknown, [f"unknown id {i!r} (not in the pool)" for i in rows.id])
    bad = reasons.notna().to_numpy()
    good = rows[~bad]

    # Everything stored about these items, to recognise annotations imported before.
    con.execute(
        "CREATE TEMP TABLE _stored AS SELECT * FROM label_events WHERE list_contains(?, id)",
        [sorted(set(good.id))],
    )
    stored = con.execute(
        "SELECT id, labels, annotator, skipped, annotated_at, external_key FROM _stored"
    ).df()
    seen = set(stored.external_key.dropna()) | {
        content_key(i, ls, a, s, t)
        for i, ls, a, s, t in zip(
            stored.id,
            stored.labels,
            stored.annotator,
            stored.skipped,
            stored.annotated_at,
            strict=True,
        )
    }
    repeat = good.external_key.isin(seen) | good.content_key.isin(seen)
    _count_outdated_repeats(con, good[repeat], report)
    fresh = good[~repeat]
    fresh = fresh[~fresh.external_key.duplicated() & ~fresh.content_key.duplicated()]
    report.already_imported = len(good) - len(fresh)

    now = utcnow()
    batches = con.execute(
        "SELECT id, arg_max(batch_id, created_at) AS batch_id, "
        "arg_max(iteration, created_at) AS iteration FROM query_log "
        "WHERE list_contains(?, id) GROUP BY id",
        [sorted(set(fresh.id))],
    ).df()
    batch_of = dict(zip(batches.id, batches.batch_id, strict=True))
    iteration_of = dict(zip(batches.id, batches.iteration, strict=True))
    events = pd.DataFrame(
        {
            "event_id": [f"ev-{report.batch}-{r:09d}" for r in fresh["row"]],
            "id": fresh["id"],
            "labels": fresh["labels"],
            "skipped": fresh["skipped"],
            "annotator": fresh["annotator"],
            "source": source,
            "iteration": pd.array([iteration_of.get(i) for i in fresh.id], dtype="Int32"),
            "batch_id": [batch_of.get(i) for i in fresh.id],
            "external_key": fresh["external_key"],
            "created_at": now,
            "annotated_at": fresh["annotated_at"],
        }
    )
    schema = SCHEMAS["label_events"]
    events_table = (
        pa.Table.from_pandas(events, schema=schema, preserve_index=False)
        if len(events)
        else schema.empty_table()
    )
    _classify(con, policy, fresh, events_table, report)

    rejected = rows[bad]
    bad_reasons = reasons[bad].tolist()
    quarantine = pd.DataFrame(
        {
            "quarantine_id": [f"q-{report.batch}-{r:09d}" for r in rejected["row"]],
            "kind": "labels",
            "id": rejected["id"],
            "labels": ["|".join(v) for v in rejected["labels"]],
            "reason": bad_reasons,
            "source": report.source,
            "row": rejected["row"].astype(np.int64),
            "batch": report.batch,
            "created_at": now,
        }
    )
    report.rejected = len(quarantine)
    report.reasons.update(_kind(r) for r in bad_reasons)
    log = [
        {
            "batch_id": report.batch,
            "kind": "labels",
            "source": report.source,
            "file_sha256": report.file_sha256,
            "n_rows": report.n_rows,
            "n_added": len(events),
            "n_duplicates": report.already_imported,
            "n_labels": len(events) - report.skipped,
            "n_quarantined": report.rejected,
            "created_at": now,
        }
    ]
    with ws.transaction(kind="labels", what=f"the label import of {report.source}") as tx:
        # An empty frame has float64 columns that cannot be cast to the list/string schema.
        if len(events):
            tx.append("label_events", events_table)
        if len(quarantine):
            tx.append("quarantine", quarantine)
        tx.append("ingest_log", log)


def _count_outdated_repeats(con: Any, repeats: pd.DataFrame, report: LabelImportReport) -> None:
    """Repeated labels that are no longer their annotator's newest label of the item."""
    labelled = repeats[~repeats.skipped]
    if labelled.empty:
        return
    latest = con.execute(f"SELECT id, annotator, labels FROM ({annotator_labels_sql('_stored')})")
    newest = {(i, a): list(ls) for i, a, ls in latest.fetchall()}
    report.outdated_repeats = sum(
        newest.get((i, a), sorted(ls)) != sorted(ls)
        for i, a, ls in zip(labelled.id, labelled.annotator, labelled.labels, strict=True)
    )


def _classify(
    con: Any, policy: str, fresh: pd.DataFrame, events: pa.Table, report: LabelImportReport
) -> None:
    """Count each fresh row's effect by comparing current labels before and after it."""
    con.register("_incoming", events)
    con.execute(
        "CREATE TEMP TABLE _after AS SELECT * FROM _stored UNION ALL BY NAME SELECT * FROM _incoming"
    )
    before = dict(
        con.execute(f"SELECT id, labels FROM ({current_labels_sql(policy, '_stored')})").fetchall()
    )
    after = dict(
        con.execute(f"SELECT id, labels FROM ({current_labels_sql(policy, '_after')})").fetchall()
    )
    for item, labels, skipped in zip(fresh.id, fresh.labels, fresh.skipped, strict=True):
        if skipped:
            report.skipped += 1
        elif item not in before:
            report.new += 1
        elif sorted(labels) == list(before[item]):
            report.unchanged += 1
        elif after.get(item) == before[item]:
            report.overruled += 1
        else:
            report.changed += 1
    report.items_changed = sum(after[i] != before.get(i) for i in after)


def _kind(reason: str) -> str:
    for prefix in ("unknown id", "unknown label", "time "):
        if reason.startswith(prefix):
            return "bad time" if prefix == "time " else prefix
    return reason
