"""Import an annotator's label file into the label history, validated.

Rows are parsed by :func:`al_core.queues.read_label_file` (Label Studio JSON / JSON-MIN, CSV,
JSONL), then checked with great-expectations: the row parsed, its id is in the pool, its labels
are in the label set. Accepted rows become label events (source ``queue``); rejected rows go to
the quarantine table with the reason. Events are deduplicated by their ``external_key`` (a
Label Studio annotation id, or the file hash and row), so re-importing a file, or a cumulative
Label Studio export, never adds an event twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.errors import InputFileError
from al_core.ingest.readers import file_sha256
from al_core.labels import label_problem
from al_core.queues import LabelFileError, read_label_file
from al_core.storage import Workspace, utcnow
from al_core.validation import Check, run_checks


@dataclass
class LabelImportReport:
    source: str
    file_sha256: str
    batch: str | None = None
    n_rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    already_imported: int = 0  # rows whose event was stored by an earlier import
    file_seen_before: bool = False
    reasons: Counter = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return self.new + self.changed + self.unchanged + self.skipped

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["reasons"] = dict(self.reasons)
        return d

    def summary(self) -> str:
        if self.file_seen_before:
            return f"{self.source} was imported before; nothing added"
        text = (
            f"{self.source}: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.skipped} skipped, {self.rejected} rejected"
        )
        if self.already_imported:
            text += f" ({self.already_imported} already imported)"
        return text


def import_label_file(
    ws: Workspace, path: str | Path, *, source: str = "queue"
) -> LabelImportReport:
    """Import ``path`` into ``ws``; see the module docstring. Raises ``InputFileError``."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    sha = file_sha256(path)
    report = LabelImportReport(str(path), sha)
    with ws.lock():
        if ws.scalar(
            "SELECT count(*) FROM ingest_log WHERE kind = 'labels' AND file_sha256 = ?", [sha]
        ):
            report.file_seen_before = True
            return report
        try:
            rows = read_label_file(path)
        except LabelFileError as exc:
            raise InputFileError(str(exc)) from None
        report.n_rows = len(rows)
        report.batch = f"labels-{utcnow():%Y%m%dT%H%M%S%f}-{sha[:8]}"
        _store(ws, rows.reset_index(drop=True), report, source=source)
    return report


def _store(ws: Workspace, rows: pd.DataFrame, report: LabelImportReport, *, source: str) -> None:
    label_set = ws.config.label_set
    ids = [i for i in rows["id"].tolist() if i]
    known = ws.stored_values("pool", "id", ids)
    rows["parse_error"] = rows["error"]
    rows["id_known"] = [i in known for i in rows["id"]]
    rows["label_problem"] = [
        None if skipped else label_problem(list(labels), label_set)
        for labels, skipped in zip(rows["labels"], rows["skipped"], strict=True)
    ]
    checks = [
        Check("ExpectColumnValuesToBeNull", "parse_error", lambda r: r.parse_error),
        Check(
            "ExpectColumnValuesToBeInSet",
            "id_known",
            lambda r: f"unknown id {r.id!r} (not in the pool)",
            {"value_set": [True]},
        ),
        Check("ExpectColumnValuesToBeNull", "label_problem", lambda r: r.label_problem),
    ]
    checked = run_checks(rows, checks, name="labels")
    # A row that failed to parse also fails the id/label checks; keep the first reason only
    # (the parse error whole: it may itself contain "; ").
    reasons = [
        error if isinstance(error, str) else r.split("; ")[0]
        for r, error in zip(checked.reasons, rows["parse_error"], strict=True)
    ]
    bad = checked.failed.to_numpy()
    good = rows[~bad]

    stored_keys = ws.stored_values("label_events", "external_key", good["external_key"].tolist())
    fresh = ~good["external_key"].isin(stored_keys).to_numpy()
    report.already_imported = int((~fresh).sum())
    good = good[fresh].drop_duplicates(subset=["external_key"])

    current = ws.query(
        "SELECT id, labels FROM current_labels WHERE list_contains(?, id)", [good["id"].tolist()]
    )
    before = {i: sorted(labels) for i, labels in zip(current.id, current.labels, strict=True)}
    for labels, skipped, item in zip(good["labels"], good["skipped"], good["id"], strict=True):
        if skipped:
            report.skipped += 1
        elif item not in before:
            report.new += 1
        elif sorted(labels) == before[item]:
            report.unchanged += 1
        else:
            report.changed += 1

    batches = ws.query(
        "SELECT id, arg_max(batch_id, created_at) AS batch_id, "
        "arg_max(iteration, created_at) AS iteration FROM query_log "
        "WHERE list_contains(?, id) GROUP BY id",
        [good["id"].tolist()],
    )
    batch_of = dict(zip(batches.id, batches.batch_id, strict=True))
    iteration_of = dict(zip(batches.id, batches.iteration, strict=True))
    now = utcnow()
    events = pd.DataFrame(
        {
            "event_id": [f"ev-{report.batch}-{r:09d}" for r in good["row"]],
            "id": good["id"],
            "labels": [list(v) for v in good["labels"]],
            "skipped": good["skipped"].astype(bool),
            "annotator": good["annotator"],
            "source": source,
            "iteration": pd.array([iteration_of.get(i) for i in good["id"]], dtype="Int32"),
            "batch_id": [batch_of.get(i) for i in good["id"]],
            "external_key": good["external_key"],
            "created_at": now,
        }
    )
    rejected = rows[bad]
    bad_reasons = [r for r, b in zip(reasons, bad, strict=True) if b]
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
    with ws.transaction() as tx:
        # An empty frame has float64 columns that cannot be cast to the list/string schema.
        if len(events):
            tx.append("label_events", events)
        if len(quarantine):
            tx.append("quarantine", quarantine)
        tx.append("ingest_log", log)


def _kind(reason: str) -> str:
    if reason.startswith("unknown id"):
        return "unknown id"
    if reason.startswith("unknown label"):
        return "unknown label"
    return reason
