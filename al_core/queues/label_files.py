"""Read annotators' label files into one table of rows, whatever format they came in.

Supported formats, chosen by extension:

* ``.json``: a Label Studio export, either the full JSON export (tasks with ``data`` and
  ``annotations``) or JSON-MIN (flat records); told apart by looking at the records.
* ``.csv``: columns ``id`` and ``label`` (optional ``annotator``); several labels joined by
  ``|``; an empty label means the annotator skipped the item.
* ``.jsonl`` / ``.ndjson``: one object per line with ``id``, ``label`` (a string or a list of
  strings), optional ``annotator`` and ``skipped``.

A bad row never disappears: it comes back with ``error`` set, so the caller can report it.
Only problems with the whole file (not UTF-8, not JSON, no ``id``/``label`` columns, empty,
unknown extension) raise :class:`LabelFileError`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from al_core.labels import LabelSet
from al_core.queues.labelstudio_format import FROM_NAME, ID_FIELD

LabelRows: TypeAlias = pd.DataFrame
"""A table with :data:`LABEL_ROW_COLUMNS`; ``attrs`` holds ``path``, ``format``, ``sha256``."""

LABEL_ROW_COLUMNS = ("id", "labels", "annotator", "skipped", "external_key", "row", "error")

UNKNOWN_ANNOTATOR = "unknown"
CSV_LABEL_SEPARATOR = "|"

FORMAT_LS_JSON = "labelstudio-json"
FORMAT_LS_JSON_MIN = "labelstudio-json-min"
FORMAT_CSV = "csv"
FORMAT_JSONL = "jsonl"


class LabelFileError(ValueError):
    """A label file that cannot be read at all (as opposed to one bad row in it)."""


@dataclass
class _Row:
    row: int
    key: str
    id: str = ""
    labels: list[str] = field(default_factory=list)
    annotator: str = UNKNOWN_ANNOTATOR
    skipped: bool = False
    error: str | None = None

    def fail(self, message: str) -> _Row:
        if self.error is None:
            self.error = message
        return self


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
    fmt, rows = parser(path, text, sha)
    if label_set is not None:
        for row in rows:
            if row.error is None and not row.skipped:
                problem = _check_label_set(row.labels, label_set)
                if problem:
                    row.fail(problem)
    return _frame(rows, {"path": str(path), "format": fmt, "sha256": sha})


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


def _frame(rows: list[_Row], attrs: dict[str, str]) -> LabelRows:
    df = pd.DataFrame(
        {
            "id": pd.Series([r.id for r in rows], dtype="str"),
            "labels": pd.Series([list(r.labels) for r in rows], dtype=object),
            "annotator": pd.Series([r.annotator for r in rows], dtype="str"),
            "skipped": pd.Series([r.skipped for r in rows], dtype=bool),
            "external_key": pd.Series([r.key for r in rows], dtype="str"),
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
    return (text, None) if text else ("", "missing id")


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


def _set_labels(row: _Row, values: list[Any] | str | None) -> str | None:
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


def _parse_json(path: Path, text: str, sha: str) -> tuple[str, list[_Row]]:
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
        return FORMAT_LS_JSON, _parse_ls_full(records, sha)
    return FORMAT_LS_JSON_MIN, _parse_ls_min(records, sha)


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


def _parse_ls_full(records: list[Any], sha: str) -> list[_Row]:
    """One row per annotation; ``row`` counts annotations (and malformed tasks) in order."""
    rows: list[_Row] = []

    def new_row() -> _Row:
        n = len(rows) + 1
        rows.append(_Row(row=n, key=f"{sha}:{n}"))
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


def _parse_ls_min(records: list[Any], sha: str) -> list[_Row]:
    """JSON-MIN: our id is ``alflow_id`` when present, else the top-level ``id``.

    JSON-MIN puts Label Studio's own task id in ``id``, overwriting a ``data.id``; tasks built
    by :func:`~al_core.queues.labelstudio_format.to_ls_tasks` carry ``alflow_id`` for this.
    The label is the ``label`` key (our ``<Choices>`` name). Records without a label and
    without an ``annotation_id``/``annotator`` are unanswered tasks and give no row.
    """
    rows: list[_Row] = []
    for n, rec in enumerate(records, 1):
        row = _Row(row=n, key=f"{sha}:{n}")
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


def _parse_csv(path: Path, text: str, sha: str) -> tuple[str, list[_Row]]:
    """``row`` is the line a record starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    try:
        header: list[str] = []
        while not header:  # leading blank lines
            header = next(reader)
        names = [h.strip().lower() for h in header]
        found = ", ".join(repr(h) for h in header)
        if "id" not in names or "label" not in names:
            raise _file_error(path, f"CSV needs 'id' and 'label' columns; found {found}")
        for name in ("id", "label", "annotator"):
            if names.count(name) > 1:
                raise _file_error(path, f"CSV has the column {name!r} twice; found {found}")
        i_id, i_label = names.index("id"), names.index("label")
        i_annotator = names.index("annotator") if "annotator" in names else None
        needed = max(i_id, i_label, i_annotator or 0) + 1
        start = reader.line_num + 1
        for rec in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in rec):  # blank line or a row of empty cells
                continue
            row = _Row(row=line, key=f"{sha}:{line}")
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


def _parse_jsonl(path: Path, text: str, sha: str) -> tuple[str, list[_Row]]:
    """``row`` is the line number; blank lines are skipped but counted."""
    rows: list[_Row] = []
    objects = 0
    first_problem: str | None = None
    # Split on "\n" only: str.splitlines() would also split inside strings at U+2028 etc.
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        row = _Row(row=n, key=f"{sha}:{n}")
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


def _fill_jsonl_row(row: _Row, obj: dict[str, Any]) -> None:
    row.id, problem = _clean_id(obj.get("id"))
    if problem:
        row.fail(problem)
    row.annotator = _clean_annotator(obj.get("annotator"))
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


_PARSERS: dict[str, Callable[[Path, str, str], tuple[str, list[_Row]]]] = {
    ".json": _parse_json,
    ".csv": _parse_csv,
    ".jsonl": _parse_jsonl,
    ".ndjson": _parse_jsonl,
}
