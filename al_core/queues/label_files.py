"""Read annotators' label files into one table of rows, whatever format they came in.

Supported formats, chosen by extension:

* ``.json``: a Label Studio export, either the full JSON export (tasks with ``data`` and
  ``annotations``) or JSON-MIN (flat records); told apart by looking at the records.
* ``.csv``: columns ``id`` and ``label`` (optional ``annotator`` and a time column); several
  labels joined by ``|``; an empty label means the annotator skipped the item.
* ``.jsonl`` / ``.ndjson``: one object per line with ``id``, ``label`` (a string or a list of
  strings), optional ``annotator``, ``skipped`` and a time field.

**Identity.** Each row gets an ``external_key`` that says which annotation it is, so that
importing it again adds nothing: Label Studio rows are keyed by the annotation's id and version
(``ls-annotation:<id>@<updated_at>``); rows of formats without annotation ids (CSV, JSONL, a
Label Studio annotation without an id) by :func:`content_key`, a hash of what they say (item,
labels, annotator, skip, time). So a CSV re-saved with CRLF line ends, a byte-order mark or its
rows in another order has the same keys as the original.

**Time.** ``annotated_at`` is when the annotation was made, where the format says: Label
Studio's ``updated_at`` (the last edit), else its ``created_at``; in CSV/JSONL an
``annotated_at``, ``updated_at`` or ``created_at`` column, in that order of preference (ISO 8601;
a time without a zone is UTC). It decides which label is newest (``al_core/labels/policy.py``).
Label Studio's ``lead_time`` is the seconds spent annotating, not a point in time; it is unused.

A bad row never disappears: it comes back with ``error`` set, so the caller can report it.
Only problems with the whole file (not UTF-8, not JSON, no ``id``/``label`` columns, empty,
unknown extension) raise :class:`LabelFileError`. Other sources of annotations (a Label Studio
server) build the same table from :class:`LabelRow` objects with :func:`label_rows`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from al_core.labels import LabelSet
from al_core.queues.labelstudio_format import FROM_NAME, ID_FIELD

LabelRows: TypeAlias = pd.DataFrame
"""A table with :data:`LABEL_ROW_COLUMNS`; ``attrs`` holds ``path``, ``format``, ``sha256``."""

LABEL_ROW_COLUMNS = (
    "id",
    "labels",
    "annotator",
    "skipped",
    "annotated_at",
    "external_key",
    "row",
    "error",
)

UNKNOWN_ANNOTATOR = "unknown"
CSV_LABEL_SEPARATOR = "|"

FORMAT_LS_JSON = "labelstudio-json"
FORMAT_LS_JSON_MIN = "labelstudio-json-min"
FORMAT_CSV = "csv"
FORMAT_JSONL = "jsonl"


class LabelFileError(ValueError):
    """A label file that cannot be read at all (as opposed to one bad row in it)."""


# Time columns of CSV/JSONL label files, most preferred first.
TIME_FIELDS = ("annotated_at", "updated_at", "created_at")


@dataclass
class LabelRow:
    """One parsed annotation: ``row`` is its position in the source (a line, an annotation).

    ``key`` is the annotation's own identity (Label Studio's id and version) or None, in which
    case :func:`label_rows` fills in :func:`content_key`.
    """

    row: int
    key: str | None = None
    id: str = ""
    labels: list[str] = field(default_factory=list)
    annotator: str = UNKNOWN_ANNOTATOR
    skipped: bool = False
    annotated_at: datetime | None = None
    error: str | None = None

    def fail(self, message: str) -> LabelRow:
        if self.error is None:
            self.error = message
        return self


def time_text(value: Any) -> str:
    """A time as fixed ISO 8601 UTC text with microseconds ("" for none), for keys."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return pd.Timestamp(value).tz_convert(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_key(
    item_id: str, labels: Sequence[str], annotator: str, skipped: bool, annotated_at: Any
) -> str:
    """The identity of an annotation that has no id of its own: a hash of what it says.

    Two rows with the same item, label set (in any order), annotator, skip flag and time are
    the same annotation, however the file that carried them was encoded or ordered.
    """
    parts = [
        str(item_id),
        "|".join(sorted(str(label) for label in labels)),
        str(annotator),
        "skip" if skipped else "label",
        time_text(annotated_at),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"content:{digest[:32]}"


def read_label_file(path: str | Path, label_set: LabelSet | None = None) -> LabelRows:
    """Parse the label file at ``path`` into rows with :data:`LABEL_ROW_COLUMNS`.

    With ``label_set``, rows with labels outside it (or several labels for a single-label
    set) get an ``error``. Raises :class:`LabelFileError` when the file as a whole is unusable.
    """
    path = Path(path)
    ext = path.suffix.lower()
    parser = _PARSERS.get(ext)
    if parser is None:
        known = ", ".join(sorted(_PARSERS))
        shown = repr(ext) if ext else "(none)"
        raise _file_error(path, f"unknown label file extension {shown}; expected one of {known}")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    text = _decode(path, data)
    fmt, rows = parser(path, text)
    _check_rows(rows, label_set)
    return label_rows(rows, path=str(path), format=fmt, sha256=sha)


def parse_ls_tasks(
    tasks: Sequence[Any], label_set: LabelSet | None = None, **attrs: str
) -> LabelRows:
    """Rows of the annotations of Label Studio ``tasks`` as its API or JSON export gives them.

    The same parser as a JSON export file (one row per annotation, skips as skips); ``attrs``
    describe the source (e.g. ``origin``).
    """
    rows = _parse_ls_full(list(tasks))
    _check_rows(rows, label_set)
    return label_rows(rows, format=FORMAT_LS_JSON, **attrs)


def _check_rows(rows: list[LabelRow], label_set: LabelSet | None) -> None:
    if label_set is None:
        return
    for row in rows:
        if row.error is None and not row.skipped:
            problem = _check_label_set(row.labels, label_set)
            if problem:
                row.fail(problem)


# --- whole-file helpers -------------------------------------------------------------------


def _file_error(path: Path, problem: str) -> LabelFileError:
    return LabelFileError(f"{path}: {problem}")


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text (a leading BOM is dropped); the error names the first bad byte's offset."""
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data[:offset].count(b"\n") + 1
        raise _file_error(
            path,
            f"not UTF-8 text: invalid byte 0x{data[offset]:02x} at byte offset {offset} "
            f"(line {line}); save the file as UTF-8",
        ) from None
    if not text.strip():
        raise _file_error(path, "file is empty")
    return text


def label_rows(rows: Sequence[LabelRow], **attrs: str) -> LabelRows:
    """The table of ``rows`` (:data:`LABEL_ROW_COLUMNS`); ``attrs`` describe the source.

    Rows without a ``key`` get their :func:`content_key`.
    """
    keys = [
        r.key or content_key(r.id, r.labels, r.annotator, r.skipped, r.annotated_at) for r in rows
    ]
    df = pd.DataFrame(
        {
            "id": pd.Series([r.id for r in rows], dtype="str"),
            "labels": pd.Series([list(r.labels) for r in rows], dtype=object),
            "annotator": pd.Series([r.annotator for r in rows], dtype="str"),
            "skipped": pd.Series([r.skipped for r in rows], dtype=bool),
            "annotated_at": pd.Series(
                pd.to_datetime([r.annotated_at for r in rows], utc=True),
                dtype="datetime64[us, UTC]",
            ),
            "external_key": pd.Series(keys, dtype="str"),
            "row": pd.Series([r.row for r in rows], dtype="int64"),
            "error": pd.Series([r.error for r in rows], dtype=object),
        }
    )
    df.attrs.update(attrs)
    return df


# --- value cleaning -----------------------------------------------------------------------


def _clean_id(value: Any) -> tuple[str, str | None]:
    if value is None:
        return "", "missing id"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "", f"id {value!r} is not a string"
    text = str(value).strip()
    if "\x00" in text:
        return "", f"id {text!r} contains a NUL character"
    return (text, None) if text else ("", "missing id")


def _parse_time(value: Any) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time (UTC when it names no zone), None for none, or the problem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        return None, f"time {value!r} is not an ISO 8601 string"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, f"time {value!r} is not an ISO 8601 time"
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), None


def _set_time(row: LabelRow, *candidates: Any) -> None:
    """Set the row's time from the first non-empty candidate (a bad one fails the row)."""
    for value in candidates:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        row.annotated_at, problem = _parse_time(value)
        if problem:
            row.fail(problem)
        return


def _clean_annotator(value: Any) -> str:
    if isinstance(value, dict):  # Label Studio user objects
        value = value.get("email") or value.get("username") or value.get("id")
    if value is None or isinstance(value, bool):
        return UNKNOWN_ANNOTATOR
    text = str(value).strip()
    return text or UNKNOWN_ANNOTATOR


def _clean_labels(values: list[Any]) -> tuple[list[str], str | None]:
    """Stripped, de-duplicated labels in their given order, or an error."""
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            return [], f"label {value!r} is not a string"
        label = value.strip()
        if not label:
            return [], "empty label"
        if "\x00" in label:
            return [], f"label {label!r} contains a NUL character"
        if label not in out:
            out.append(label)
    return out, None


def _check_label_set(labels: list[str], label_set: LabelSet) -> str | None:
    for label in labels:
        if label not in label_set:
            return f"unknown label {label!r} (label set: {', '.join(label_set.names)})"
    if not label_set.multi_label and len(labels) > 1:
        shown = ", ".join(repr(label) for label in labels)
        return f"single-label task got {len(labels)} labels: {shown}"
    return None


def _set_labels(row: LabelRow, values: list[Any] | str | None) -> str | None:
    """Set the row's labels, or return the problem with them.

    No label at all (``None``, ``""``, ``[]``) means the annotator skipped the item.
    """
    if values is None or isinstance(values, str):
        values = [values] if values and values.strip() else []
    labels, problem = _clean_labels(values)
    if problem:
        return problem
    row.labels = labels
    row.skipped = not labels
    return None


# --- Label Studio JSON --------------------------------------------------------------------


def _parse_json(path: Path, text: str) -> tuple[str, list[LabelRow]]:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _file_error(
            path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(records, list):
        raise _file_error(
            path,
            f"expected a JSON list of Label Studio tasks, got a {type(records).__name__}",
        )
    if any(isinstance(r, dict) and ("annotations" in r or "data" in r) for r in records):
        return FORMAT_LS_JSON, _parse_ls_full(records)
    return FORMAT_LS_JSON_MIN, _parse_ls_min(records)


def _task_id(data: Any) -> tuple[str, str | None]:
    if not isinstance(data, dict):
        return "", "task has no 'data' object"
    if data.get(ID_FIELD) is not None:
        return _clean_id(data[ID_FIELD])
    return _clean_id(data.get("id"))


def _choices(result: list[Any]) -> tuple[list[Any], str | None]:
    """Chosen labels in an annotation ``result``: from our ``label`` control, else any choices."""
    items = [r for r in result if isinstance(r, dict) and r.get("type") == "choices"]
    ours = [r for r in items if r.get("from_name") == FROM_NAME]
    values: list[Any] = []
    for item in ours or items:
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(chosen, list):
            return [], "choices result without a 'value.choices' list"
        values.extend(chosen)
    if not items:
        return [], "no label: the annotation has no 'choices' result"
    return values, None


def _parse_ls_full(records: list[Any]) -> list[LabelRow]:
    """One row per annotation; ``row`` counts annotations (and malformed tasks) in order."""
    rows: list[LabelRow] = []

    def new_row() -> LabelRow:
        rows.append(LabelRow(row=len(rows) + 1))
        return rows[-1]

    for t, task in enumerate(records, 1):
        if not isinstance(task, dict):
            new_row().fail(f"task {t} is not a JSON object")
            continue
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            new_row().fail(f"task {t}: 'annotations' is not a list")
            continue
        item_id, id_problem = _task_id(task.get("data"))
        for k, ann in enumerate(annotations, 1):
            where = f" (task {t}, annotation {k})"
            row = new_row()
            row.id = item_id
            if id_problem:
                row.fail(id_problem + where)
            if not isinstance(ann, dict):
                row.fail("annotation is not a JSON object" + where)
                continue
            if ann.get("id") is not None:
                row.key = _annotation_key(ann["id"], ann.get("updated_at"))
            row.annotator = _clean_annotator(ann.get("completed_by"))
            _set_time(row, ann.get("updated_at"), ann.get("created_at"))
            result = ann.get("result")
            if ann.get("was_cancelled") is True or result is None or result == []:
                row.skipped = True
            elif not isinstance(result, list):
                row.fail("annotation 'result' is not a list" + where)
            else:
                values, problem = _choices(result)
                problem = problem or _set_labels(row, values)
                if problem:
                    row.fail(problem + where)
    return rows


def _annotation_key(annotation_id: Any, updated_at: Any) -> str:
    """Label Studio keeps an annotation's id when it is edited; its ``updated_at`` changes.

    Keying by both makes an edited annotation a new event (the edit is imported) while an
    unchanged one in a later, cumulative export is recognised and skipped.
    """
    key = f"ls-annotation:{annotation_id}"
    return f"{key}@{updated_at}" if updated_at else key


def _parse_ls_min(records: list[Any]) -> list[LabelRow]:
    """JSON-MIN: our id is ``alflow_id`` when present, else the top-level ``id``.

    JSON-MIN puts Label Studio's own task id in ``id``, overwriting a ``data.id``; tasks built
    by :func:`~al_core.queues.labelstudio_format.to_ls_tasks` carry ``alflow_id`` for this.
    The label is the ``label`` key (our ``<Choices>`` name). Records without a label and
    without an ``annotation_id``/``annotator`` are unanswered tasks and give no row.
    """
    rows: list[LabelRow] = []
    for n, rec in enumerate(records, 1):
        row = LabelRow(row=n)
        if not isinstance(rec, dict):
            rows.append(row.fail("record is not a JSON object"))
            continue
        label = rec.get(FROM_NAME)
        answered = rec.get("annotation_id") is not None or rec.get("annotator") is not None
        if label is None and not answered:
            continue
        rows.append(row)
        raw_id = rec[ID_FIELD] if rec.get(ID_FIELD) is not None else rec.get("id")
        row.id, problem = _clean_id(raw_id)
        if problem:
            row.fail(problem)
        if rec.get("annotation_id") is not None:
            row.key = _annotation_key(rec["annotation_id"], rec.get("updated_at"))
        row.annotator = _clean_annotator(rec.get("annotator", rec.get("completed_by")))
        _set_time(row, rec.get("updated_at"), rec.get("created_at"))
        if rec.get("was_cancelled") is True:
            row.skipped = True
        elif label is None or isinstance(label, str | list):
            problem = _set_labels(row, label)
        elif isinstance(label, dict) and isinstance(label.get("choices"), list):
            problem = _set_labels(row, label["choices"])
        else:
            problem = "label is not a string, a list or {'choices': [...]}"
        if problem:
            row.fail(problem)
    return rows


# --- CSV ----------------------------------------------------------------------------------


def _parse_csv(path: Path, text: str) -> tuple[str, list[LabelRow]]:
    """``row`` is the line a record starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[LabelRow] = []
    try:
        header: list[str] = []
        while not header:  # leading blank lines
            header = next(reader)
        names = [h.strip().lower() for h in header]
        found = ", ".join(repr(h) for h in header)
        if "id" not in names or "label" not in names:
            raise _file_error(path, f"CSV needs 'id' and 'label' columns; found {found}")
        for name in ("id", "label", "annotator", *TIME_FIELDS):
            if names.count(name) > 1:
                raise _file_error(path, f"CSV has the column {name!r} twice; found {found}")
        i_id, i_label = names.index("id"), names.index("label")
        i_annotator = names.index("annotator") if "annotator" in names else None
        i_times = [names.index(name) for name in TIME_FIELDS if name in names]
        needed = max(i_id, i_label, i_annotator or 0) + 1
        start = reader.line_num + 1
        for rec in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in rec):  # blank line or a row of empty cells
                continue
            row = LabelRow(row=line)
            rows.append(row)
            if len(rec) < needed or len(rec) > len(header):
                hint = f"; separate several labels with {CSV_LABEL_SEPARATOR!r}"
                row.fail(
                    f"row has {len(rec)} field{'' if len(rec) == 1 else 's'} "
                    f"but the header has {len(header)}" + (hint if len(rec) > len(header) else "")
                )
                if len(rec) <= i_id:
                    continue
            row.id, problem = _clean_id(rec[i_id])
            if problem:
                row.fail(problem)
            if i_annotator is not None and i_annotator < len(rec):
                row.annotator = _clean_annotator(rec[i_annotator])
            _set_time(row, *(rec[i] for i in i_times if i < len(rec)))
            cell = rec[i_label].strip() if i_label < len(rec) else ""
            if row.error is None:
                parts = cell.split(CSV_LABEL_SEPARATOR) if cell else []
                if _set_labels(row, parts):
                    row.fail(f"empty label in {cell!r}")
    except StopIteration:
        raise _file_error(path, "file is empty") from None
    except csv.Error as exc:
        raise _file_error(path, f"CSV error at line {reader.line_num}: {exc}") from None
    return FORMAT_CSV, rows


# --- JSON lines ---------------------------------------------------------------------------


def _parse_jsonl(path: Path, text: str) -> tuple[str, list[LabelRow]]:
    """``row`` is the line number; blank lines are skipped but counted."""
    rows: list[LabelRow] = []
    objects = 0
    first_problem: str | None = None
    # Split on "\n" only: str.splitlines() would also split inside strings at U+2028 etc.
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        row = LabelRow(row=n)
        rows.append(row)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            row.fail(f"invalid JSON at column {exc.colno}: {exc.msg}")
            first_problem = first_problem or f"line {n}: {row.error}"
            continue
        if not isinstance(obj, dict):
            row.fail("line is not a JSON object")
            first_problem = first_problem or f"line {n}: {row.error}"
            continue
        objects += 1
        _fill_jsonl_row(row, obj)
    if not objects:
        raise _file_error(path, f"no line is a JSON object ({first_problem})")
    return FORMAT_JSONL, rows


def _fill_jsonl_row(row: LabelRow, obj: dict[str, Any]) -> None:
    row.id, problem = _clean_id(obj.get("id"))
    if problem:
        row.fail(problem)
    row.annotator = _clean_annotator(obj.get("annotator"))
    _set_time(row, *(obj.get(name) for name in TIME_FIELDS))
    skipped = obj.get("skipped", False)
    if skipped is None:
        skipped = False
    if not isinstance(skipped, bool):
        row.fail("'skipped' is not true or false")
        return
    key = "label" if "label" in obj or "labels" not in obj else "labels"
    if skipped:
        row.skipped = True
    elif key not in obj:
        row.fail("no label")
    elif obj[key] is None or isinstance(obj[key], str | list):
        problem = _set_labels(row, obj[key])
        if problem:
            row.fail(problem)
    else:
        row.fail("label is not a string or a list of strings")


_PARSERS: dict[str, Callable[[Path, str], tuple[str, list[LabelRow]]]] = {
    ".json": _parse_json,
    ".csv": _parse_csv,
    ".jsonl": _parse_jsonl,
    ".ndjson": _parse_jsonl,
}
