"""The pipeline's own overhead per iteration on a 10k-item pool, per classifier.

Issue 10's target: everything but training, scoring and embedding under 10% of an iteration on
a 10k-item pool. ``benchmarks/scale.py --items 10000`` measures it for the default classifier,
whose fit and scoring take 0.2 s, so there the fraction is ~99% whatever the pipeline does.
This script measures it as a team runs the loop with each classifier given, on real texts:

* the pool is AG News's 10,001 training texts (``../shared/data/agnews``), the evaluation set
  500 of its test texts; 25 random gold labels start the loop;
* a ``prefect server start`` on loopback serves every run (the production setup: no temporary
  server per command);
* each round is ``alflow iterate WS --json`` in a fresh process; its exported batch is then
  answered with the gold labels, dropped in the file queue's inbox as a CSV, which the next
  round imports (so import and queue handling are part of the measured overhead).

Per round it records the wall time and the flow's own step timings. ``overhead`` is the wall
time less fit, pool scoring and embedding (as ``scale.py`` defines it). Predicting the
evaluation set and the stopping set is scoring too, but the flow times those steps whole
(loading the model, reading the items, metrics), so ``overhead_less_eval`` also takes the
``evaluate`` and ``stopping`` steps out. Both are reported.

    nice -n 10 python benchmarks/overhead_10k.py                         # both classifiers
    python benchmarks/overhead_10k.py --classifiers setfit --rounds 2

Four rounds by default: with SetFit's defaults the body is fine-tuned at 25, 50 and 100 labels
and only the head is refitted at 75, so both kinds of round are measured.

Prints and saves ``benchmarks/results/overhead_10k.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from scale import alflow, bench_folder, iterate_with_summary, load, prefect_server  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "overhead_10k.json"
DATA = next(
    (
        p / "shared" / "data" / "agnews"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared" / "data" / "agnews").is_dir()
    ),
    REPO.parent / "shared" / "data" / "agnews",
)


def write_sources(folder: Path, n_eval: int, seed: int) -> dict[str, Any]:
    """pool.parquet (id, text), eval.parquet (id, text, label) and gold.parquet (id, label)."""
    import pandas as pd

    train = pd.read_parquet(DATA / "train.parquet", columns=["text", "label"])
    test = pd.read_parquet(DATA / "test.parquet", columns=["text", "label"])
    train = train.drop_duplicates("text").reset_index(drop=True)
    test = test[~test.text.isin(set(train.text))].drop_duplicates("text")
    test = test.sample(n_eval, random_state=seed).reset_index(drop=True)
    pool = pd.DataFrame({"id": [f"t{i:05d}" for i in range(len(train))], "text": train.text})
    pool.to_parquet(folder / "pool.parquet", index=False)
    ev = pd.DataFrame(
        {"id": [f"e{i:04d}" for i in range(len(test))], "text": test.text, "label": test.label}
    )
    ev.to_parquet(folder / "eval.parquet", index=False)
    pd.DataFrame({"id": pool.id, "label": train.label}).to_parquet(
        folder / "gold.parquet", index=False
    )
    return {"pool": len(pool), "eval": len(ev), "labels": sorted(train.label.unique())}


def one_round(ws: Path, env: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One ``alflow iterate``: ``scale.py``'s figures plus the evaluate and stopping steps, and
    the printed summary."""
    figures, summary = iterate_with_summary(ws, env)
    t = figures["steps"]
    evaluate = float(t.get("evaluate", 0.0)) + float(t.get("stopping", 0.0))
    less_eval = figures["overhead_seconds"] - evaluate
    figures.update(
        accuracy=(summary.get("metrics") or {}).get("accuracy"),
        evaluate_and_stopping_seconds=round(evaluate, 3),
        overhead_less_eval_seconds=round(less_eval, 3),
        overhead_less_eval_fraction=round(less_eval / figures["seconds"], 4),
    )
    return figures, summary


def answer_batch(summary: dict[str, Any], gold: dict[str, str], inbox: Path, k: int) -> int:
    """Write the gold labels of the exported batch into the queue's inbox; how many."""
    import pandas as pd

    tasks = json.loads(Path(summary["batch"]).read_text())
    ids = [t["data"]["id"] for t in tasks]
    inbox.mkdir(parents=True, exist_ok=True)
    part = inbox / f"answers-{k:03d}.csv.partial"
    pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(part, index=False)
    part.rename(part.with_suffix(""))  # whole files only: the queue skips *.partial
    return len(ids)


def run_classifier(
    name: str, src: Path, root: Path, env: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    import pandas as pd

    from al_core.storage import Workspace

    ws = root / f"ws-{name}"
    shutil.rmtree(ws, ignore_errors=True)
    labels = json.loads((src / "labels.json").read_text())
    alflow("init", str(ws), "--labels", ",".join(labels), env=env)
    w = Workspace.open(ws)
    w.config.active_learning.classifier = name
    w.config.active_learning.max_iterations = 10**6  # the rounds measured here must all query
    w.save_config()
    alflow("ingest", str(ws), str(src / "pool.parquet"), env=env)
    eval_args = ["--role", "eval", "--label-column", "label"]
    alflow("ingest", str(ws), str(src / "eval.parquet"), *eval_args, env=env)
    g = pd.read_parquet(src / "gold.parquet")
    gold = dict(zip(g.id, g.label, strict=True))
    g.sample(args.initial, random_state=args.seed).to_csv(src / f"initial-{name}.csv", index=False)
    alflow("import-labels", str(ws), str(src / f"initial-{name}.csv"), env=env)
    rounds = []
    for k in range(args.rounds):
        figures, summary = one_round(ws, env)
        figures["load"] = load()
        rounds.append(figures)
        print(f"  {name} round {k + 1}: {json.dumps(figures)[:400]}", flush=True)
        if summary.get("status") != "completed" or not summary.get("batch"):
            raise RuntimeError(f"round {k + 1} did not export a batch: {summary.get('status')}")
        answer_batch(summary, gold, ws / "queue" / "inbox", k)
    return {"classifier": name, "rounds": rounds}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classifiers", default="embedding-logreg,setfit")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--initial", type=int, default=25)
    ap.add_argument("--eval", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the workspaces here")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    root, env, tmp = bench_folder(args.workdir, "alflow-overhead-")
    src = root / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    sources = write_sources(src, args.eval, args.seed)
    (src / "labels.json").write_text(json.dumps(sources["labels"]))
    out: dict[str, Any] = {
        "benchmark": "overhead_10k",
        "sources": sources,
        "initial_labels": args.initial,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_before": load(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "classifiers": [],
    }
    with prefect_server(root / "prefect-server", env) as server_env:
        for name in args.classifiers.split(","):
            out["classifiers"].append(run_classifier(name, src, root, server_env, args))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out, indent=2) + "\n")  # partial results
    out["load_after"] = load()
    print(
        f"\n{'classifier':<18} {'round':>5} {'wall':>7} {'fit':>6} {'score':>6} {'embed':>6} "
        f"{'eval':>6} {'overhead':>9} {'less eval':>10}"
    )
    for c in out["classifiers"]:
        for k, r in enumerate(c["rounds"], 1):
            print(
                f"{c['classifier']:<18} {k:>5} {r['seconds']:>7.1f} {r['fit_seconds']:>6.1f} "
                f"{r['scoring_compute_seconds']:>6.1f} {r['embedding_seconds']:>6.1f} "
                f"{r['evaluate_and_stopping_seconds']:>6.1f} "
                f"{r['overhead_seconds']:>5.1f} {r['overhead_fraction']:>4.0%} "
                f"{r['overhead_less_eval_seconds']:>5.1f} {r['overhead_less_eval_fraction']:>4.0%}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return out


if __name__ == "__main__":
    main()
