"""Reference figures: small-text 1.4.1, TF-IDF + ConfidenceEnhancedLinearSVC, on the README protocol.

small-text cannot live in alflow's environment (its torch extras need torchtext), so this script
runs in its own virtual environment and imports nothing from alflow::

    python3 -m venv .bench-venvs/smalltext
    .bench-venvs/smalltext/bin/pip install small-text==1.4.1 scikit-learn pyarrow pandas
    nice -n 10 .bench-venvs/smalltext/bin/python benchmarks/smalltext_reference.py

Protocol: 25 random initial labels + 20 batches of 25, seeds 0-2, breaking ties and random
sampling, accuracy on the test split after every round. Vectorizer: scikit-learn's
``TfidfVectorizer()`` with its defaults, fitted on the training texts (what small-text's own
examples do). Writes the raw curves to ``benchmarks/results/smalltext_reference.json``;
``benchmarks/tfidf_sweep.py`` reads them and computes the AUC with alflow's own definition.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATASETS = {
    "trec6": REPO / "data" / "trec6",
    "mr": REPO.parent / "shared" / "data" / "mr",
}
if not DATASETS["mr"].exists():
    DATASETS["mr"] = Path("/work/shared/data/mr")


def run(name: str, folder: Path, strategy: str, seed: int) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from small_text import (
        BreakingTies,
        ConfidenceEnhancedLinearSVC,
        PoolBasedActiveLearner,
        RandomSampling,
        SklearnClassifierFactory,
        SklearnDataset,
    )

    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    names = sorted(set(train.label))
    y_train = np.array([names.index(v) for v in train.label])
    y_test = np.array([names.index(v) for v in test.label])
    vec = TfidfVectorizer()
    X_train = vec.fit_transform(train.text.tolist())
    X_test = vec.transform(test.text.tolist())
    targets = np.arange(len(names))
    pool = SklearnDataset(X_train, y_train, target_labels=targets)
    test_set = SklearnDataset(X_test, y_test, target_labels=targets)
    factory = SklearnClassifierFactory(ConfidenceEnhancedLinearSVC(), len(names))
    qs = BreakingTies() if strategy == "breaking-ties" else RandomSampling()
    np.random.seed(seed)
    learner = PoolBasedActiveLearner(factory, qs, pool)
    start = time.perf_counter()
    initial = np.random.choice(len(y_train), 25, replace=False)
    learner.initialize_data(initial, y_train[initial])
    labels, acc = [25], [float((learner.classifier.predict(test_set) == y_test).mean())]
    for _ in range(20):
        queried = learner.query(num_samples=25)
        learner.update(y_train[queried])
        labels.append(labels[-1] + 25)
        acc.append(float((learner.classifier.predict(test_set) == y_test).mean()))
    return {
        "dataset": name,
        "strategy": strategy,
        "seed": seed,
        "labels": labels,
        "accuracy": acc,
        "wall_seconds": round(time.perf_counter() - start, 3),
    }


def main() -> int:
    import small_text

    runs = [
        run(name, folder, strategy, seed)
        for name, folder in DATASETS.items()
        for strategy in ("breaking-ties", "random")
        for seed in range(3)
    ]
    for r in runs:
        print(r["dataset"], r["strategy"], r["seed"], round(r["accuracy"][-1], 4), flush=True)
    out = REPO / "benchmarks" / "results" / "smalltext_reference.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "smalltext_reference",
                "small_text": small_text.__version__
                if hasattr(small_text, "__version__")
                else "1.4.1",
                "classifier": "ConfidenceEnhancedLinearSVC (defaults) on TfidfVectorizer()",
                "protocol": "25 random initial + 20 x 25, seeds 0-2",
                "runs": runs,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
