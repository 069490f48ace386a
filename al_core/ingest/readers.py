"""Read a user's file into a DataFrame of strings, or fail with a one-line reason.

Supported: CSV, TSV, JSONL (``.jsonl``/``.ndjson``), JSON (a list of objects), Parquet, and
Hugging Face ``datasets`` datasets (a folder written by ``save_to_disk``, or ``hf:NAME`` when a
hub is reachable). Large text files are read in chunks behind a progress bar.

Cells keep the type their format gave them (JSON numbers stay numbers, a Parquet integer column
with nulls stays integers and ``None``, lists stay lists), so ingest can reject a cell that is
not text instead of storing its printed form.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from al_core.errors import InputFileError

CHUNK_BYTES = 4 << 20
FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "hf")

ProgressFn = Callable[[int, int], None]  # (done, total) in bytes or rows


def detect_format(source: str) -> str:
    if source.startswith("hf:"):
        return "hf"
    path = Path(source)
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        raise InputFileError(f"{path} is a folder, not a file or a saved Hugging Face dataset")
    suffix = path.suffix.lower().lstrip(".")
    aliases = {"ndjson": "jsonl", "pq": "parquet", "tab": "tsv", "txt": "tsv"}
    fmt = aliases.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InputFileError(
            f"{path}: unknown file type {path.suffix!r}; use .csv, .tsv, .jsonl, .json, "
            ".parquet or a saved Hugging Face dataset folder"
        )
    return fmt


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(f"{path}: the file is empty")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"re-save it as UTF-8 or pass --encoding"
        ) from None
    except LookupError:
        raise InputFileError(f"unknown encoding {encoding!r}") from None
    return text.removeprefix("\ufeff")


def _read_delimited(
    path: Path, sep: str, encoding: str, progress: ProgressFn | None
) -> pd.DataFrame:
    text = _decode(path, encoding)
    total = max(1, text.count("\n"))  # lines: an upper bound on rows, for the progress bar
    try:
        reader = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            quoting=csv.QUOTE_MINIMAL,
            chunksize=20_000,
            engine="c",
        )
        chunks, done = [], 0
        for chunk in reader:
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(min(done, total), total)
    except pd.errors.ParserError as exc:
        raise InputFileError(
            f"{path}: malformed {'TSV' if sep == chr(9) else 'CSV'}: {exc}"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path}: no header row") from None
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if unnamed and len(unnamed) == len(frame.columns):
        raise InputFileError(f"{path}: the header row has no column names")
    return frame


def _read_jsonl(path: Path, encoding: str, progress: ProgressFn | None) -> pd.DataFrame:
    text = _decode(path, encoding)
    rows, total, done = [], len(text), 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        done += len(line) + 1
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}: line {lineno} is not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputFileError(f"{path}: line {lineno} is not a JSON object")
        rows.append(obj)
        if progress and lineno % 20_000 == 0:
            progress(done, total)
    if not rows:
        raise InputFileError(f"{path}: no records")
    return pd.DataFrame(rows, dtype=object)


def _read_json(path: Path, encoding: str) -> pd.DataFrame:
    try:
        obj = json.loads(_decode(path, encoding))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if isinstance(obj, dict) and isinstance(obj.get("data"), list):
        obj = obj["data"]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise InputFileError(f"{path}: expected a JSON list of objects")
    if not obj:
        raise InputFileError(f"{path}: no records")
    return pd.DataFrame(obj, dtype=object)


def _read_parquet(path: Path, progress: ProgressFn | None) -> pd.DataFrame:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None
    parts, total = [], pf.metadata.num_rows
    for i in range(pf.num_row_groups):
        parts.append(pf.read_row_group(i))
        if progress:
            progress(sum(p.num_rows for p in parts), total)
    table = pa.concat_tables(parts) if parts else pf.schema_arrow.empty_table()
    return table.to_pandas(integer_object_nulls=True)


def _read_hf(source: str, split: str | None) -> pd.DataFrame:
    try:
        import datasets
    except ImportError:
        raise InputFileError(
            "reading Hugging Face datasets needs `pip install alflow[datasets]`"
        ) from None
    try:
        if source.startswith("hf:"):
            ds = datasets.load_dataset(source[3:], split=split or "train")
        else:
            ds = datasets.load_from_disk(source)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types; report them all alike
        raise InputFileError(
            f"{source}: cannot load the dataset ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(ds, datasets.DatasetDict):
        if split is None:
            raise InputFileError(f"{source} has splits {', '.join(ds)}; choose one with --split")
        if split not in ds:
            raise InputFileError(f"{source} has no split {split!r}; it has {', '.join(ds)}")
        ds = ds[split]
    frame = ds.to_pandas()
    # Class-label columns hold integers; store their names, which is what users label with.
    for name, feature in ds.features.items():
        if isinstance(feature, datasets.ClassLabel):
            frame[name] = [
                feature.int2str(int(v)) if v is not None and v >= 0 else None for v in frame[name]
            ]
        elif isinstance(feature, (datasets.Sequence, datasets.List)) and isinstance(
            getattr(feature, "feature", None), datasets.ClassLabel
        ):
            cl = feature.feature
            frame[name] = [[cl.int2str(int(v)) for v in vs] for vs in frame[name]]
    return frame


def read_table(
    source: str | Path,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    split: str | None = None,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Read ``source`` into a DataFrame; raise :class:`InputFileError` if it cannot be read."""
    source = str(source)
    fmt = fmt or detect_format(source)
    if fmt != "hf":
        path = Path(source)
        if not path.is_file():
            raise InputFileError(f"{path}: no such file")
    if fmt == "csv":
        return _read_delimited(Path(source), ",", encoding, progress)
    if fmt == "tsv":
        return _read_delimited(Path(source), "\t", encoding, progress)
    if fmt == "jsonl":
        return _read_jsonl(Path(source), encoding, progress)
    if fmt == "json":
        return _read_json(Path(source), encoding)
    if fmt == "parquet":
        return _read_parquet(Path(source), progress)
    if fmt == "hf":
        return _read_hf(source, split)
    raise InputFileError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
