"""Benchmark: the default simulation (the demo's) on the full embedded TREC-6 data.

Runs the ``alflow-simulate`` flow twice: first with an empty embedding cache (cold: MiniLM
embeds every text), then again on the filled cache (warm). Writes timings and results to
``benchmarks/results/simulate_trec.json``::

    PREFECT_HOME=.alflow/prefect .venv/bin/python benchmarks/simulate_trec.py [--seeds 3] \
        [--iterations 20] [--out benchmarks/results/simulate_trec.json]

Per phase (seconds): loading, embedding (with texts/s), the full-data model, the simulation
loop, and per iteration the mean query and training time of each strategy. ``flow_wall_s``
is the wall time of the flow call and ``prefect_overhead_s`` what it adds to the phases
(engine, API calls, the temporary server when none is configured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)


def one_run(label: str, cache_dir: Path, out_dir: Path, args: argparse.Namespace) -> dict:
    from flows.simulate import simulate_flow

    data = REPO / "data" / "trec6"
    t0 = time.perf_counter()
    summary = simulate_flow(
        train=str(data / "train.parquet"),
        test=str(data / "test.parquet"),
        strategies=[args.strategy],
        classifier="embedding-logreg",
        embedder="minilm",
        initial=25,
        batch_size=25,
        iterations=args.iterations,
        seeds=args.seeds,
        out_dir=str(out_dir),
        cache_dir=str(cache_dir),
    )
    wall = time.perf_counter() - t0
    timings = summary["timings"]
    emb = summary["embedding"]
    n_texts = summary["settings"]["train_size"] + summary["settings"]["test_size"]
    iters = max(1, args.iterations)
    record = {
        "run": label,
        "flow_wall_s": round(wall, 3),
        "phases_s": timings,
        "prefect_overhead_s": round(wall - timings["total_seconds"], 3),
        "embedding": {
            **emb,
            "texts": n_texts,
            "texts_per_s": round(emb["embedded"] / timings["embed_seconds"], 1)
            if emb["embedded"]
            else None,
        },
        "full_data_accuracy": summary["full_data_accuracy"],
        "strategies": [
            {
                "strategy": e["strategy"],
                "auc": round(e["auc"], 4),
                "final_accuracy": round(e["final_accuracy"], 4),
                "final_accuracy_std": round(e["accuracy_std"][-1], 4),
                "labels": e["labels"][-1],
                "run_wall_s": round(e["wall_seconds"], 3),
                "query_s_per_iteration": round(e["query_seconds"] / iters, 4),
                "train_s_per_fit": round(e["train_seconds"] / (iters + 1), 4),
            }
            for e in summary["results"]
        ],
    }
    print(
        f"{label}: flow {wall:.1f} s (embed {timings['embed_seconds']:.1f} s, simulate "
        f"{timings['simulate_seconds']:.1f} s, Prefect overhead {record['prefect_overhead_s']:.1f} s)",
        flush=True,
    )
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="least-confidence")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/simulate_trec.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="alflow-bench-") as tmp:
        cache, out = Path(tmp) / "embeddings", Path(tmp) / "simulation"
        runs = [one_run(label, cache, out, args) for label in ("cold", "warm")]
    result = {
        "benchmark": "simulate_trec",
        "setup": {
            "dataset": "trec6 (5452 train / 500 test)",
            "classifier": "embedding-logreg",
            "embedder": "minilm",
            "strategy": args.strategy,
            "baseline": "random",
            "initial": 25,
            "batch_size": 25,
            "iterations": args.iterations,
            "seeds": args.seeds,
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
