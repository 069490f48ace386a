"""Several ``alflow ingest`` processes into one workspace at once: do they wait for each other?

Each process reads and validates its file (great-expectations) before it takes the workspace's
writer lock, and holds the lock only to check against what is stored and commit. This starts
``--processes`` CLI ingests of ``--rows`` rows each (distinct TREC-6 questions) at the same
moment and reports each one's exit code and the seconds until it finished (a process that waits
longer than ``--lock-timeout`` for the lock fails with "locked by another alflow process").
Prints a table and saves
``benchmarks/results/ingest_parallel.json``. Run with the project venv:
``nice -n 10 .venv/bin/python benchmarks/ingest_parallel.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

ALFLOW = Path(sys.executable).with_name("alflow")
LABELS = "ABBR,DESC,ENTY,HUM,LOC,NUM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--lock-timeout", type=float, default=30.0)
    args = parser.parse_args()
    questions = pd.read_parquet(REPO / "data" / "trec6" / "train.parquet")
    env = {**os.environ, "ALFLOW_LOCK_TIMEOUT": str(args.lock_timeout)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        subprocess.run([ALFLOW, "init", ws, "--labels", LABELS], check=True, env=env)
        files = []
        for k in range(args.processes):
            part = questions.iloc[k * args.rows : (k + 1) * args.rows].copy()
            part["id"] = [f"f{k}-{i}" for i in range(len(part))]
            files.append(tmp / f"part-{k}.csv")
            part[["id", "text", "label"]].to_csv(files[-1], index=False)
        started = time.perf_counter()

        def ingest(path: Path) -> dict:
            proc = subprocess.run(
                [ALFLOW, "ingest", ws, path, "--json"], capture_output=True, text=True, env=env
            )
            return {
                "exit_code": proc.returncode,
                "seconds": round(time.perf_counter() - started, 2),
                "added": json.loads(proc.stdout)["n_added"] if proc.returncode == 0 else None,
                "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else None,
            }

        with ThreadPoolExecutor(args.processes) as pool:
            runs = list(pool.map(ingest, files))
    result = {
        "benchmark": "ingest_parallel",
        "processes": args.processes,
        "rows_each": args.rows,
        "lock_timeout_s": args.lock_timeout,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "all_succeeded": all(r["exit_code"] == 0 for r in runs),
        "wall_seconds": max(r["seconds"] for r in runs),
        "runs": runs,
    }
    print(f"{'process':>8} {'exit':>5} {'seconds':>8} {'added':>6}  error")
    for k, r in enumerate(runs):
        print(
            f"{k:>8} {r['exit_code']:>5} {r['seconds']:>8} {r['added'] or '-':>6}  {r['error'] or ''}"
        )
    out = REPO / "benchmarks" / "results" / "ingest_parallel.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
