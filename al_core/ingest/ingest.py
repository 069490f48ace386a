"""Ingest a file into a workspace: read, normalise, validate, then store or quarantine.

Every row ends up in exactly one place: the pool (new text), nowhere (an exact duplicate of
something stored, counted), or the quarantine table (with the reason). Rows that carry a label
also add a label event with source ``import``. The whole batch is one transaction, and a file
ingested before (same sha256) is not read again.

Reading and the great-expectations checks of the rows themselves (text present and not too
long, cells that are text, ids present and unique, labels in the label set) run *before* the
workspace lock is taken, so parallel ingests do not wait for each other's validation. Under the
lock, everything that depends on what is stored is checked against the workspace as it is at
commit time: the file hash (a concurrent ingest of the same file), ids stored meanwhile with
other text, and role conflicts.

**Roles.** An item is either a training candidate (``pool``) or held-out evaluation data
(``eval``), never both: a row whose id or text is already stored under the other role is
quarantined as a role conflict (with a label, it would otherwise become a training label of an
evaluation item), whichever file came first.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from al_core.errors import InputFileError
from al_core.hashing import content_hash
from al_core.ingest.cells import label_column, string_column
from al_core.ingest.readers import ProgressFn, detect_format, file_sha256, read_table
from al_core.labels import label_problem
from al_core.storage import Workspace, utcnow
from al_core.validation import Check, run_checks

ROLES = ("pool", "eval")
QUARANTINE_TEXT_CHARS = 10_000  # longer rejected texts are stored truncated (the file has them)


@dataclass
class IngestReport:
    source: str
    batch_id: str | None
    file_sha256: str
    n_rows: int = 0
    n_added: int = 0
    n_duplicates: int = 0
    n_labels: int = 0
    n_quarantined: int = 0
    already_ingested: bool = False
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["reasons"] = dict(self.reasons)
        return d

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.source} was already ingested (batch {self.batch_id}); nothing added"
        parts = [
            f"{self.n_rows} rows read",
            f"{self.n_added} added to the pool",
            f"{self.n_labels} labels recorded",
            f"{self.n_duplicates} duplicates skipped",
            f"{self.n_quarantined} quarantined",
        ]
        return f"{self.source}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"


def _source_fingerprint(source: str, fmt: str, split: str | None) -> str:
    if fmt != "hf" or source.startswith("hf:"):
        if fmt == "hf":
            return content_hash(f"{source}|{split}")
        return file_sha256(Path(source))
    folder = Path(source)
    listing = sorted(
        f"{p.relative_to(folder)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in folder.rglob("*")
        if p.is_file()
    )
    return content_hash("\n".join(listing) + f"|{split}")


def _resolve_column(frame: pd.DataFrame, name: str, explicit: bool, what: str, path: str) -> bool:
    if name in frame.columns:
        return True
    if explicit:
        cols = ", ".join(map(str, frame.columns)) or "(none)"
        raise InputFileError(f"{path}: no {what} column {name!r}; the columns are: {cols}")
    return False


def _ingested_batch(ws: Workspace, sha: str) -> str | None:
    seen = ws.query(
        "SELECT batch_id FROM ingest_log WHERE kind = 'pool' AND file_sha256 = ?", [sha]
    )
    return str(seen.batch_id.iloc[0]) if len(seen) else None


def ingest_file(
    ws: Workspace,
    source: str | Path,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    label_column: str | None = None,
    role: str = "pool",
    annotator: str = "import",
    encoding: str = "utf-8",
    split: str | None = None,
    fmt: str | None = None,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Ingest ``source`` into ``ws``; see the module docstring. Raises ``InputFileError``."""
    started = time.perf_counter()
    cfg = ws.config
    source = str(source)
    if role not in ROLES:
        raise InputFileError(f"unknown role {role!r}; choose one of {ROLES}")
    fmt = fmt or detect_format(source)
    if fmt != "hf" and not Path(source).is_file():
        raise InputFileError(f"{source}: no such file")
    sha = _source_fingerprint(source, fmt, split)

    def already(batch_id: str) -> IngestReport:
        return IngestReport(
            source,
            batch_id,
            sha,
            already_ingested=True,
            seconds=time.perf_counter() - started,
        )

    seen = _ingested_batch(ws, sha)  # checked again under the lock
    if seen is not None:
        return already(seen)
    frame = read_table(source, fmt=fmt, encoding=encoding, split=split, progress=progress)
    text_col = text_column or cfg.text_column
    id_col = id_column or cfg.id_column
    label_col = label_column or cfg.label_column
    _resolve_column(frame, text_col, True, "text", source)
    has_ids = _resolve_column(frame, id_col, id_column is not None, "id", source)
    has_labels = _resolve_column(frame, label_col, label_column is not None, "label", source)
    rows = _normalise(
        frame,
        text_col,
        id_col if has_ids else None,
        label_col if has_labels else None,
        cfg.multi_label,
        cfg.label_separator,
    )
    report = IngestReport(source, None, sha, n_rows=len(rows))
    rows = _check_rows(ws, rows, report)
    with ws.lock():
        seen = _ingested_batch(ws, sha)  # a concurrent ingest of the same file
        if seen is not None:
            return already(seen)
        report.batch_id = f"ingest-{utcnow():%Y%m%dT%H%M%S%f}-{sha[:8]}"
        _store(ws, rows, report, role=role, annotator=annotator, source=source)
    report.seconds = time.perf_counter() - started
    return report


def _normalise(
    frame: pd.DataFrame,
    text_col: str,
    id_col: str | None,
    label_col: str | None,
    multi_label: bool,
    sep: str,
) -> pd.DataFrame:
    """One row per input row: id, text, labels, metadata, and ``cell_problem`` (or None)."""
    texts, text_problems = string_column(frame[text_col], "text")
    if id_col is not None:
        ids, id_problems = string_column(frame[id_col], "id", allow_int=True)
        ids = [i or None for i in ids]
    else:  # derived deterministically from the text, so the same text gets the same id
        ids = [f"t{content_hash(t)[:16]}" if t else None for t in texts]
        id_problems = [None] * len(frame)
    if label_col is not None:
        labels, label_problems = label_column(frame[label_col], multi_label, sep)
    else:
        labels, label_problems = [None] * len(frame), [None] * len(frame)
    others = [c for c in frame.columns if c not in {text_col, id_col, label_col}]
    if others:
        meta = frame[others].to_json(orient="records", lines=True, force_ascii=False)
        metadata = meta.splitlines() if meta else ["{}"] * len(frame)
    else:
        metadata = ["{}"] * len(frame)
    problems = [
        "; ".join(p for p in ps if p) or None
        for ps in zip(text_problems, id_problems, label_problems, strict=True)
    ]
    return pd.DataFrame(
        {
            "row": range(1, len(frame) + 1),
            "id": pd.Series(ids, dtype=object),
            "text": pd.Series(texts, dtype=object),
            "labels": pd.Series(labels, dtype=object),
            "metadata": metadata,
            "cell_problem": pd.Series(problems, dtype=object),
        }
    )


def _check_rows(ws: Workspace, rows: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Collapse exact repeats, then run the great-expectations checks that need only the rows.

    Returns the rows that remain, with ``reason`` ("" when every check passed).
    """
    cfg = ws.config
    label_set = cfg.label_set
    rows["label_key"] = [None if ls is None else "|".join(sorted(ls)) for ls in rows["labels"]]
    # Exact repeats of a row (same id, text and labels) are duplicates, not conflicts.
    dup = rows.duplicated(subset=["id", "text", "label_key"], keep="first") & rows["id"].notna()
    report.n_duplicates += int(dup.sum())
    rows = rows[~dup].reset_index(drop=True)
    rows["content_hash"] = [content_hash(t) if t is not None else None for t in rows["text"]]
    rows["text_length"] = [len(t) if t is not None else 0 for t in rows["text"]]
    rows["unknown_labels"] = [label_problem(ls, label_set) for ls in rows["labels"]]
    id_counts = rows["id"].value_counts()
    max_chars = cfg.max_text_chars
    checks = [
        Check("ExpectColumnValuesToBeNull", "cell_problem", lambda r: r.cell_problem),
        Check(  # a cell that is not text already has its reason
            "ExpectColumnValuesToNotBeNull",
            "text",
            lambda r: "" if r.cell_problem else "text is missing",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            "text_length",
            lambda r: (
                ""
                if r.text is None
                else "text is empty"
                if r.text_length == 0
                else f"text has {r.text_length} characters, above the limit of {max_chars}"
            ),
            {"min_value": 1, "max_value": max_chars},
        ),
        Check(
            "ExpectColumnValuesToNotBeNull",
            "id",
            lambda r: "" if r.cell_problem else "id is missing",
        ),
        Check(
            "ExpectColumnValuesToBeUnique",
            "id",
            lambda r: (
                f"id {r.id!r} appears {id_counts[r.id]} times in this file with "
                "different text or labels"
            ),
        ),
        Check("ExpectColumnValuesToBeNull", "unknown_labels", lambda r: r.unknown_labels),
    ]
    rows["reason"] = run_checks(rows, checks, name="ingest").reasons.to_numpy()
    return rows


def _pool_problems(ws: Workspace, rows: pd.DataFrame, role: str) -> tuple[list[str], set[str]]:
    """Reasons against what is stored now (call under the lock), and the ids already stored.

    An id stored with other text is a conflict; an id or a text stored under the other role
    is a role conflict.
    """
    ids = sorted(set(rows["id"].dropna()))
    hashes = sorted(set(rows["content_hash"].dropna()))
    stored = ws.lookup("pool", "id", ids, ["id", "content_hash", "role"])
    other = ws.lookup("pool", "content_hash", hashes, ["content_hash", "id", "role"])
    other = (
        other[other.role != role].sort_values("id").drop_duplicates("content_hash", keep="first")
    )
    hash_of = dict(zip(stored.id, stored.content_hash, strict=True))
    role_of = dict(zip(stored.id, stored.role, strict=True))
    other_id = dict(zip(other.content_hash, other.id, strict=True))
    reasons = []
    for item, digest in zip(rows["id"], rows["content_hash"], strict=True):
        if item in hash_of and hash_of[item] != digest:
            reasons.append(f"id {item!r} is already in the pool with different text")
        elif item in role_of and role_of[item] != role:
            reasons.append(
                f"role conflict: id {item!r} is already {_ROLE_NAMES[role_of[item]]}{_NEVER}"
            )
        elif digest in other_id:
            reasons.append(
                f"role conflict: the same text is already {_ROLE_NAMES[_other(role)]} "
                f"(id {other_id[digest]!r}){_NEVER}"
            )
        else:
            reasons.append("")
    return reasons, set(hash_of)


_ROLE_NAMES = {"pool": "a training item (role pool)", "eval": "an evaluation item (role eval)"}
_NEVER = "; evaluation data must never be trained on"


def _other(role: str) -> str:
    return "eval" if role == "pool" else "pool"


def _store(
    ws: Workspace,
    rows: pd.DataFrame,
    report: IngestReport,
    *,
    role: str,
    annotator: str,
    source: str,
) -> None:
    """Check the rows against the stored pool and commit (call under the lock)."""
    pool_reasons, stored_ids = _pool_problems(ws, rows, role)
    rows["reason"] = [
        "; ".join(r for r in pair if r) for pair in zip(rows["reason"], pool_reasons, strict=True)
    ]
    bad = (rows["reason"] != "").to_numpy()
    good = rows[~bad]
    rejected = rows[bad]
    now = utcnow()

    is_new = ~good["id"].isin(stored_ids)
    new_rows = good[is_new].drop_duplicates(subset=["id"])
    report.n_duplicates += int((~is_new).sum()) + int(is_new.sum() - len(new_rows))
    pool = pd.DataFrame(
        {
            "id": new_rows["id"],
            "text": new_rows["text"],
            "content_hash": new_rows["content_hash"],
            "role": role,
            "ingest_batch": report.batch_id,
            "source": source,
            "metadata": new_rows["metadata"],
            "ingested_at": now,
        }
    )
    labelled = good[good["labels"].notna()]
    keys = [f"import:{i}:{k}" for i, k in zip(labelled["id"], labelled["label_key"], strict=True)]
    known = ws.stored_values("label_events", "external_key", keys)
    fresh = [k not in known for k in keys]
    labelled = labelled[np.array(fresh, dtype=bool)]
    events = pd.DataFrame(
        {
            "event_id": [f"ev-{report.batch_id}-{r:09d}" for r in labelled["row"]],
            "id": labelled["id"],
            "labels": labelled["labels"],
            "skipped": False,
            "annotator": annotator,
            "source": "import",
            "batch_id": report.batch_id,
            "external_key": [k for k, f in zip(keys, fresh, strict=True) if f],
            "created_at": now,
        }
    )
    quarantine = pd.DataFrame(
        {
            "quarantine_id": [f"q-{report.batch_id}-{r:09d}" for r in rejected["row"]],
            "kind": "ingest",
            "id": rejected["id"],
            "text": [_clip(t) for t in rejected["text"]],
            "labels": rejected["label_key"],
            "reason": rejected["reason"],
            "source": source,
            "row": rejected["row"],
            "batch": report.batch_id,
            "created_at": now,
        }
    )
    report.n_added = len(pool)
    report.n_labels = len(events)
    report.n_quarantined = len(quarantine)
    report.reasons.update(_reason_kind(r) for r in rejected["reason"])
    log = [
        {
            "batch_id": report.batch_id,
            "kind": "pool",
            "source": source,
            "file_sha256": report.file_sha256,
            "n_rows": report.n_rows,
            "n_added": report.n_added,
            "n_duplicates": report.n_duplicates,
            "n_labels": report.n_labels,
            "n_quarantined": report.n_quarantined,
            "created_at": now,
        }
    ]
    with ws.transaction(kind="ingest", what=f"the ingest of {source}") as tx:
        tx.append("pool", pool)
        tx.append("label_events", events)
        tx.append("quarantine", quarantine)
        tx.append("ingest_log", log)


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= QUARANTINE_TEXT_CHARS:
        return text
    return text[:QUARANTINE_TEXT_CHARS] + f"…[truncated {len(text) - QUARANTINE_TEXT_CHARS} chars]"


_REASON_KINDS = (  # (text in a reason, its category), first match wins
    ("role conflict", "role conflict"),
    ("not a string", "cell is not text"),
    ("not UTF-8", "cell is not text"),
    ("NUL character", "NUL character"),
    ("text is missing", "text is missing"),
    ("text is empty", "text is empty"),
    ("above the limit", "text too long"),
    ("id is missing", "id is missing"),
    ("times in this file", "duplicate id"),
    ("already in the pool", "id conflicts with pool"),
    ("unknown label", "unknown label"),
    ("labels for a", "several labels"),
)


def _reason_kind(reason: str) -> str:
    """A short category for a reason (its first part), for the per-kind counts in the report."""
    first = reason.split("; ")[0]
    return next((kind for key, kind in _REASON_KINDS if key in first), first)
