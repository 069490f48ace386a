"""Does the semi-supervised head beat ``embedding-logreg`` at 50-525 labels?

For random labelled sets of each size (seeds 0-2) drawn from the pool, trains
``embedding-logreg`` and ``label-spreading`` (several ``pseudo_weight`` values; the rest of the
pool is the unlabelled set) on the same MiniLM vectors and scores both on the test split. Pools:
TREC-6 (all 5,452) and MR (3,000 drawn with seed 0, as in ``model_efficiency.py --pool 3000``).
Vectors come from the benchmark embedding cache (``.alflow/bench-cache``), filled by
``model_efficiency.py`` or on first use here. Writes
``benchmarks/results/semi_supervised_check.json``::

    nice -n 10 .venv/bin/python benchmarks/semi_supervised_check.py [--datasets trec6 mr]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.model_efficiency import DATASETS  # noqa: E402

POOLS = {"trec6": None, "mr": 3000}
SIZES = (50, 100, 200, 300, 525)
WEIGHTS = (0.03, 0.1, 0.3)


def vectors(dataset: str):
    import numpy as np
    import pandas as pd

    from al_core.embeddings import EmbeddingCache, SentenceEmbedder
    from al_core.hashing import content_hashes
    from al_core.labels import LabelSet

    train = pd.read_parquet(DATASETS[dataset] / "train.parquet")
    test = pd.read_parquet(DATASETS[dataset] / "test.parquet")
    pool = POOLS[dataset]
    if pool is not None:
        rows = np.sort(np.random.default_rng(0).choice(len(train), size=pool, replace=False))
        train = train.iloc[rows]
    ls = LabelSet(sorted(set(train.label)))
    texts = train.text.tolist() + test.text.tolist()
    cache = EmbeddingCache(REPO / ".alflow" / "bench-cache" / "embeddings")
    M = cache.get_or_compute(SentenceEmbedder(), texts, content_hashes=content_hashes(texts))
    n = len(train)
    return M[:n], ls.encode(train.label.tolist()), M[n:], ls.encode(test.label.tolist()), len(ls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(POOLS))
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/semi_supervised_check.json"
    )
    args = parser.parse_args()

    import numpy as np

    from al_core.classifiers import EmbeddingLogRegClassifier, LabelSpreadingClassifier
    from al_core.device import single_thread_blas

    out = json.loads(args.out.read_text()) if args.out.exists() else {"datasets": {}}
    for dataset in args.datasets:
        X, y, Xt, yt, k = vectors(dataset)
        table: dict[str, dict[str, float]] = {}
        for n in SIZES:
            scores: dict[str, list[float]] = {}
            for seed in range(3):
                idx = np.random.default_rng(seed).choice(len(y), n, replace=False)
                rest = np.setdiff1d(np.arange(len(y)), idx)
                with single_thread_blas():
                    base = EmbeddingLogRegClassifier(k, seed=0).fit(X[idx], y[idx])
                    scores.setdefault("embedding-logreg", []).append(
                        float((base.predict(Xt) == yt).mean())
                    )
                    for w in WEIGHTS:
                        semi = LabelSpreadingClassifier(k, seed=0, pseudo_weight=w)
                        semi.fit(X[idx], y[idx], unlabeled=X[rest])
                        scores.setdefault(f"label-spreading w={w}", []).append(
                            float((semi.predict(Xt) == yt).mean())
                        )
            table[str(n)] = {name: round(float(np.mean(v)), 4) for name, v in scores.items()}
            print(dataset, n, table[str(n)], flush=True)
        out["datasets"][dataset] = {
            "pool": len(y),
            "test": len(yt),
            "accuracy_mean_of_3_seeds": table,
        }
    out["benchmark"] = "semi_supervised_check"
    out["protocol"] = "random labelled sets (seeds 0-2), rest of the pool unlabelled, test accuracy"
    out["measured"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
