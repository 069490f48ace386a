"""Sweep: which defaults make the TF-IDF baselines (``logreg``, ``svm``) good at 25-525 labels.

For each n-gram range of the TF-IDF embedder and each (C, class_weight) of the two linear
classifiers, runs the README protocol (25 random initial labels + 20 batches of 25, seeds 0-2)
with breaking ties and random sampling on TREC-6 and MR, and records AUC (alflow's
``normalized_auc`` of the seed-mean curve), final accuracy and full-data accuracy. When
``benchmarks/results/smalltext_reference.json`` exists (``benchmarks/smalltext_reference.py``,
run in small-text's own environment), its curves are scored the same way beside ours::

    nice -n 10 .venv/bin/python benchmarks/tfidf_sweep.py [--quick]

Writes ``benchmarks/results/tfidf_sweep.json``. Not a timed test; the machine is shared.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")
DATASETS = {"trec6": REPO / "data" / "trec6", "mr": SHARED / "mr"}
STRATEGIES = ("breaking-ties", "random")


def load(folder: Path):
    import pandas as pd

    from al_core.labels import LabelSet

    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    ls = LabelSet(sorted(set(train.label)))
    return (
        train.text.tolist(),
        ls.encode(train.label.tolist()),
        test.text.tolist(),
        ls.encode(test.label.tolist()),
        len(ls),
    )


def grid(quick: bool):
    ngrams = [(1, 2)] if quick else [(1, 1), (1, 2)]
    weights = [None, "balanced"]
    logreg_c = [10.0] if quick else [1.0, 10.0, 100.0]
    svm_c = [1.0] if quick else [0.1, 1.0, 10.0]
    for ngram in ngrams:
        for c, w in itertools.product(logreg_c, weights):
            yield ngram, "logreg", {"C": c, "class_weight": w}
        for c, w in itertools.product(svm_c, weights):
            yield ngram, "svm", {"C": c, "class_weight": w}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one setting per classifier")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/tfidf_sweep.json")
    args = parser.parse_args()

    from al_core.classifiers import REGISTRY
    from al_core.device import single_thread_blas
    from al_core.embeddings import TfidfEmbedder
    from al_core.metrics import accuracy, normalized_auc
    from al_core.registry import make_initializer, make_strategy
    from al_core.simulation import simulate

    rows = []
    data = {name: load(folder) for name, folder in DATASETS.items() if folder.exists()}
    started = time.perf_counter()
    for ngram, clf_name, params in grid(args.quick):
        for dname, (tr_texts, y_tr, te_texts, y_te, k) in data.items():
            emb = TfidfEmbedder(ngram_range=ngram)
            X_tr = emb.fit_transform(tr_texts)
            X_te = emb.transform(te_texts)
            cls = REGISTRY[clf_name]
            with single_thread_blas():
                full = cls(k, seed=0, **params).fit(X_tr, y_tr)
                full_acc = accuracy(y_te, full.predict(X_te))
            row = {
                "dataset": dname,
                "ngram_range": list(ngram),
                "classifier": clf_name,
                "params": params,
                "full_data_accuracy": round(float(full_acc), 4),
            }
            for strategy in STRATEGIES:
                curves, walls = [], []
                for seed in range(args.seeds):

                    def factory(cls=cls, k=k, seed=seed, params=params):
                        return cls(k, seed=seed, **params)

                    with single_thread_blas():
                        run = simulate(
                            X_tr,
                            y_tr,
                            X_te,
                            y_te,
                            classifier_factory=factory,
                            strategy=make_strategy(strategy),
                            initializer=make_initializer("random"),
                            initial=25,
                            batch_size=25,
                            iterations=20,
                            seed=seed,
                            num_classes=k,
                        )
                    curves.append(run.accuracy)
                    walls.append(run.wall_seconds)
                mean = np.mean(curves, axis=0)
                row[strategy] = {
                    "auc": round(float(normalized_auc(run.labels, mean)), 4),
                    "final_accuracy": round(float(mean[-1]), 4),
                    "wall_seconds_per_run": round(float(np.mean(walls)), 2),
                }
            rows.append(row)
            print(
                f"{dname:6s} {clf_name:6s} ngram={ngram} {params}: "
                + ", ".join(
                    f"{s} auc {row[s]['auc']:.3f} final {row[s]['final_accuracy']:.3f}"
                    for s in STRATEGIES
                )
                + f", full {row['full_data_accuracy']:.3f}",
                flush=True,
            )

    reference = []
    ref_path = REPO / "benchmarks/results/smalltext_reference.json"
    if ref_path.exists():
        ref = json.loads(ref_path.read_text())
        for dname in DATASETS:
            for strategy in STRATEGIES:
                runs = [
                    r for r in ref["runs"] if (r["dataset"], r["strategy"]) == (dname, strategy)
                ]
                if not runs:
                    continue
                mean = np.mean([r["accuracy"] for r in runs], axis=0)
                reference.append(
                    {
                        "dataset": dname,
                        "strategy": strategy,
                        "auc": round(float(normalized_auc(runs[0]["labels"], mean)), 4),
                        "final_accuracy": round(float(mean[-1]), 4),
                    }
                )

    # The chosen default of each classifier: best mean AUC over datasets and strategies.
    best = {}
    for clf_name in ("logreg", "svm"):
        scores: dict[str, list[float]] = {}
        for r in rows:
            if r["classifier"] == clf_name:
                key = json.dumps({"ngram_range": r["ngram_range"], **r["params"]})
                scores.setdefault(key, []).extend(r[s]["auc"] for s in STRATEGIES)
        key, vals = max(scores.items(), key=lambda kv: np.mean(kv[1]))
        best[clf_name] = {"setting": json.loads(key), "mean_auc": round(float(np.mean(vals)), 4)}
    result = {
        "benchmark": "tfidf_sweep",
        "protocol": f"25 random initial + 20 x 25, seeds 0..{args.seeds - 1}, test accuracy",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "note": "shared 2-core machine; wall times are indicative only",
        },
        "wall_seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
        "smalltext_reference": reference,
        "best": best,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"best": best, "smalltext": reference}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
