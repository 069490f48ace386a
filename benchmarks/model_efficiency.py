"""Benchmark: labelling efficiency of each classifier with ``alflow simulate`` (README protocol).

25 random initial labels + 20 batches of 25 (525 labels), seeds 0-2, breaking ties against the
random baseline, accuracy on the full test split after every round; the same classifier trained
on the whole (sub-sampled) pool gives the full-data accuracy. One call measures one classifier
on one dataset and merges its record into ``benchmarks/results/model_efficiency.json``::

    nice -n 10 .venv/bin/python benchmarks/model_efficiency.py --dataset trec6 \
        --classifier setfit [--pool 3000] [--seeds 3]

``--pool N`` draws N training items at random (seed 0) as the pool, to bound CPU time; the
record says so. Runs call what the ``alflow-simulate`` flow's tasks call (split features, full-data score,
:func:`al_core.simulation.simulate` with the flow's model reuse), without Prefect; MiniLM vectors are cached under ``.alflow/bench-cache`` and shared by the
frozen-embedding classifiers. Wall times are for this shared 2-core machine (the load average
before and after is recorded).
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
SHARED = REPO.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
DATASETS = {"trec6": REPO / "data" / "trec6", "mr": SHARED / "mr"}
RESULTS = REPO / "benchmarks" / "results" / "model_efficiency.json"

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)


def prepare(dataset: str, pool: int | None, folder: Path) -> tuple[Path, Path, int, int]:
    """Train/test files for the run: the pool sub-sampled (seed 0) when ``pool`` is set."""
    import numpy as np
    import pandas as pd

    train = pd.read_parquet(DATASETS[dataset] / "train.parquet")[["text", "label"]]
    test = pd.read_parquet(DATASETS[dataset] / "test.parquet")[["text", "label"]]
    if pool is not None and pool < len(train):
        rows = np.sort(np.random.default_rng(0).choice(len(train), size=pool, replace=False))
        train = train.iloc[rows]
        missing = set(test.label) - set(train.label)
        if missing:
            raise SystemExit(f"the sub-sample lost classes {missing}; use a larger --pool")
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / "train.parquet")
    test.to_parquet(folder / "test.parquet")
    return folder / "train.parquet", folder / "test.parquet", len(train), len(test)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    parser.add_argument("--classifier", required=True, help="name or spec (see alflow list)")
    parser.add_argument("--pool", type=int, default=None, help="sub-sample the pool to N items")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategy", default="breaking-ties")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the random baseline (halves the cost)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="alflow-eff-") as tmp:
        train, test, n_train, n_test = prepare(args.dataset, args.pool, Path(tmp) / "data")
        started = time.perf_counter()
        summary = run_simulation(train, test, args)
        wall = time.perf_counter() - started
    full = summary["full_data_accuracy"]
    record = {
        "dataset": args.dataset,
        "classifier": args.classifier,
        "embedder": summary["embedder"],
        "pool": n_train,
        "pool_subsampled": args.pool is not None and args.pool < len_full(args.dataset),
        "test": n_test,
        "seeds": args.seeds,
        "full_data_accuracy": round(full, 4),
        "strategies": {
            e["strategy"]: {
                "auc": round(e["auc"], 4),
                "final_accuracy": round(e["final_accuracy"], 4),
                "final_accuracy_std": round(e["accuracy_std"][-1], 4),
                "labels": e["labels"][-1],
                "final_over_full": round(e["final_accuracy"] / full, 4) if full else None,
                "accuracy_at": {
                    str(n): round(a, 4)
                    for n, a in zip(e["labels"], e["accuracy"], strict=True)
                    if n in (25, 50, 100, 200, 300, 400, 525)
                },
                "wall_seconds_all_seeds": round(sum_wall(summary, e["strategy"]), 1),
                "train_seconds_per_fit": round(e["train_seconds"] / (args.iterations + 1), 3),
            }
            for e in summary["results"]
        },
        "timings": summary["timings"],
        "wall_seconds": round(wall, 1),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    results = json.loads(args.out.read_text()) if args.out.exists() else {"records": []}
    key = (record["dataset"], record["classifier"], record["pool"])
    results["records"] = [
        r for r in results["records"] if (r["dataset"], r["classifier"], r["pool"]) != key
    ] + [record]
    results["benchmark"] = "model_efficiency"
    results["protocol"] = "25 random initial + 20 x 25, breaking ties vs random, test accuracy"
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "shared 2-core machine, several engineers running at once",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return 0


def run_simulation(train: Path, test: Path, args: argparse.Namespace) -> dict:
    """What the ``alflow-simulate`` flow does, called as plain functions (no Prefect server:
    its temporary server does not start in time on this loaded machine)."""
    from al_core.device import single_thread_blas
    from al_core.labels import LabelSet
    from al_core.registry import lookup, make_classifier, make_initializer, make_strategy
    from al_core.simulation import simulate, summarize
    from al_core.simulation.data import load_labelled_split, score_on_full_data, split_features

    timings = {}
    tr_texts, tr_labels = load_labelled_split(train)
    te_texts, te_labels = load_labelled_split(test)
    names = sorted(set(tr_labels))
    ls = LabelSet(names)
    y_tr, y_te = ls.encode(tr_labels), ls.encode(te_labels)
    cls = lookup("classifiers", args.classifier)
    embedder = None if cls.input_kind == "texts" else cls.default_embedder
    t0 = time.perf_counter()
    X_tr, X_te, info = split_features(
        tr_texts, te_texts, embedder, REPO / ".alflow" / "bench-cache" / "embeddings"
    )
    timings["embed_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = score_on_full_data(
        X_tr, y_tr, X_te, y_te, classifier=args.classifier, num_classes=len(names)
    )
    timings["full_data_seconds"] = time.perf_counter() - t0
    runs = []
    t0 = time.perf_counter()
    plan = [args.strategy] if args.no_baseline else [args.strategy, "random"]
    for strategy in dict.fromkeys(plan):
        for seed in range(args.seeds):

            def factory(seed=seed):
                return make_classifier(args.classifier, len(names), False, seed=seed)

            with single_thread_blas():
                runs.append(
                    simulate(
                        X_tr,
                        y_tr,
                        X_te,
                        y_te,
                        classifier_factory=factory,
                        strategy=make_strategy(strategy),
                        initializer=make_initializer("random"),
                        initial=25,
                        batch_size=25,
                        iterations=args.iterations,
                        seed=seed,
                        num_classes=len(names),
                        name=strategy,
                    )
                )
            print(
                f"{args.dataset} {args.classifier} {strategy} seed {seed}: final "
                f"{runs[-1].accuracy[-1]:.3f} in {runs[-1].wall_seconds:.0f} s",
                flush=True,
            )
    timings["simulate_seconds"] = time.perf_counter() - t0
    summary = summarize(
        runs,
        dataset=args.dataset,
        classifier=args.classifier,
        embedder=embedder or "none",
        seeds=list(range(args.seeds)),
        full_data_accuracy=full,
        settings={},
    )
    summary["timings"] = {k: round(v, 2) for k, v in timings.items()}
    summary["embedding"] = {k: v for k, v in info.items() if k != "seconds"}
    return summary


def len_full(dataset: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(DATASETS[dataset] / "train.parquet").metadata.num_rows


def sum_wall(summary: dict, strategy: str) -> float:
    """Wall seconds of all seeds of ``strategy`` (the summary keeps the seed mean)."""
    entry = next(e for e in summary["results"] if e["strategy"] == strategy)
    return float(entry["wall_seconds"]) * len(summary["seeds"])


if __name__ == "__main__":
    sys.exit(main())
