"""Ingest 10,000 real rows (AG News) in three formats and compare with the raw read+write work.

Prints a table and saves ``benchmarks/results/ingest_10k.json``. Run with the project venv:
``.venv/bin/python benchmarks/ingest_10k.py``. Uses ``../shared/data/agnews`` when present,
else the embedded TREC-6 data repeated to 10,000 rows.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from al_core.ingest import ingest_file  # noqa: E402
from al_core.storage import Workspace, WorkspaceConfig  # noqa: E402

N = 10_000


def load_rows() -> tuple[str, pd.DataFrame]:
    agnews = REPO.parent / "shared" / "data" / "agnews" / "train.parquet"
    if agnews.exists():
        df = pd.read_parquet(agnews).iloc[:N]
        return "agnews-train", df[["text", "label"]].reset_index(drop=True)
    df = pd.read_parquet(REPO / "data" / "trec6" / "train.parquet")[["text", "label"]]
    df = pd.concat([df] * (N // len(df) + 1), ignore_index=True).iloc[:N]
    df["text"] = [f"{t} (copy {i})" for i, t in enumerate(df["text"])]
    return "trec6-repeated", df


def main() -> None:
    name, df = load_rows()
    labels = sorted(df.label.unique())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {
            "csv": tmp / "rows.csv",
            "jsonl": tmp / "rows.jsonl",
            "parquet": tmp / "rows.parquet",
        }
        df.to_csv(files["csv"], index=False)
        df.to_json(files["jsonl"], orient="records", lines=True, force_ascii=False)
        df.to_parquet(files["parquet"])
        # Warm the great-expectations import so it is not billed to the first format.
        warm = Workspace.init(tmp / "warm", WorkspaceConfig(labels=labels))
        ingest_file(warm, files["parquet"])
        for fmt, path in files.items():
            ws = Workspace.init(tmp / f"ws-{fmt}", WorkspaceConfig(labels=labels))
            t0 = time.perf_counter()
            report = ingest_file(ws, path)
            seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = ingest_file(ws, path)
            repeat_seconds = time.perf_counter() - t0
            # The raw work ingest wraps: read the file and write one Parquet file.
            t0 = time.perf_counter()
            raw = {
                "csv": pd.read_csv,
                "jsonl": lambda p: pd.read_json(p, lines=True),
                "parquet": pd.read_parquet,
            }[fmt](path)
            raw.to_parquet(tmp / f"raw-{fmt}.parquet")
            raw_seconds = time.perf_counter() - t0
            results.append(
                {
                    "format": fmt,
                    "rows": report.n_rows,
                    "added": report.n_added,
                    "labels": report.n_labels,
                    "quarantined": report.n_quarantined,
                    "seconds": round(seconds, 3),
                    "rows_per_second": round(report.n_rows / seconds),
                    "raw_read_write_seconds": round(raw_seconds, 3),
                    "overhead_ratio": round(seconds / raw_seconds, 1),
                    "repeat_seconds": round(repeat_seconds, 3),
                    "repeat_added": 0 if again.already_ingested else again.n_added,
                }
            )
    out = {
        "benchmark": "ingest_10k",
        "dataset": name,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    print(f"ingest of {N} rows from {name}")
    for r in results:
        print(
            f"  {r['format']:8s} {r['seconds']:6.2f} s ({r['rows_per_second']} rows/s), raw read+write "
            f"{r['raw_read_write_seconds']:.2f} s, ratio {r['overhead_ratio']}x; re-ingest "
            f"{r['repeat_seconds']:.2f} s adds {r['repeat_added']}"
        )
    target = REPO / "benchmarks" / "results" / "ingest_10k.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"saved {target}")


if __name__ == "__main__":
    main()
