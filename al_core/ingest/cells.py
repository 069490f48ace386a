"""Turn the cells of an ingested file into texts, ids and labels, or say why they are not.

Only strings are text. A number, a list, a dict or a boolean in the text column is a mistake
(the wrong column, a nested export), and storing its printed form (``"1.5"``, ``"['a' 'b']"``)
would hide it, so such a cell gets a reason and its row is quarantined. Ids may also be
integers (``7`` becomes ``"7"``); labels may be strings, integers or, for several labels, a
list of them. A NUL character is rejected everywhere: it is never meant, and tools downstream
(CSV writers, C libraries, Label Studio) truncate or choke on it.

Each function takes a whole column and returns ``(values, problems)``: the cleaned values
(``None`` for a missing or rejected cell) and a reason per cell (``None`` when the cell is
fine). String columns, the usual case, are handled with vectorized string methods.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

NUL = "\x00"
_PREVIEW_CHARS = 60


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, int | np.integer):
        return "an integer"
    if isinstance(value, float | np.floating):
        return "a number"
    if isinstance(value, list | tuple | np.ndarray):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _preview(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def _not_a_string(what: str, value: Any) -> str:
    return f"{what} is {_kind(value)}, not a string: {_preview(value)}"


def _nul(what: str) -> str:
    return f"{what} contains a NUL character (\\x00)"


def _string_cell(value: Any, what: str, allow_int: bool) -> tuple[str | None, str | None]:
    if _is_missing(value):
        return None, None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None, f"{what} is bytes that are not UTF-8: {_preview(value)}"
    if allow_int and isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return str(int(value)), None
    if not isinstance(value, str):
        return None, _not_a_string(what, value)
    if NUL in value:
        return None, _nul(what)
    return value.strip(), None


def string_column(
    column: pd.Series, what: str, *, allow_int: bool = False
) -> tuple[list[str | None], list[str | None]]:
    """Stripped strings of ``column`` (``what`` names it in reasons); integers only if allowed."""
    if isinstance(column.dtype, pd.StringDtype):  # every cell is a string or missing
        missing = column.isna().to_numpy()
        nul = column.str.contains(NUL, regex=False).fillna(False).to_numpy(dtype=bool)
        stripped = column.str.strip()
        values = [None if m or n else v for v, m, n in zip(stripped, missing, nul, strict=True)]
        problems = [_nul(what) if n else None for n in nul]
        return values, problems
    pairs = [_string_cell(v, what, allow_int) for v in column.tolist()]
    return [v for v, _ in pairs], [p for _, p in pairs]


def _label_cell(value: Any, multi_label: bool, sep: str) -> tuple[list[str] | None, str | None]:
    if _is_missing(value):
        return None, None
    if isinstance(value, list | tuple | np.ndarray):
        labels: list[str] = []
        for item in list(value):
            if _is_missing(item):
                continue
            label, problem = _string_cell(item, "label", allow_int=True)
            if problem:
                return None, problem
            if label:
                labels.append(label)
        return labels or None, None
    text, problem = _string_cell(value, "label", allow_int=True)
    if problem or not text:
        return None, problem
    parts = [p.strip() for p in text.split(sep)] if multi_label else [text]
    return [p for p in parts if p] or None, None


def label_column(
    column: pd.Series, multi_label: bool, sep: str
) -> tuple[list[list[str] | None], list[str | None]]:
    """Labels per cell: a string (``sep``-separated for multi-label), an integer or a list."""
    pairs = [_label_cell(v, multi_label, sep) for v in column.tolist()]
    return [v for v, _ in pairs], [p for _, p in pairs]
