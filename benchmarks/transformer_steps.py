"""Fresh `transformer` fits on random TREC-6 subsets: accuracy by seed, size and ``min_steps``.

The probe behind two changes (see CHANGELOG, docs/RESULTS.md section 3): early stopping that
kept weights from before ``min_steps`` (seed 1, 175 questions: accuracy 0.222 on the old code),
and the ``min_steps`` default (60 -> 160). Each seed draws a subset size from
{100, 150, 175, 200, 275} and that many training questions, fits
``TransformerClassifier(6, seed=seed, min_steps=M)`` afresh and scores the 500 test questions::

    HF_HUB_OFFLINE=1 python benchmarks/transformer_steps.py --seeds 1,4,6 --min-steps 60,160

About 50 s per fit at 60 steps and 100 s at 160 on two idle CPU cores. Prints one JSON line per
fit and writes them to ``benchmarks/results/transformer_steps.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from al_core.classifiers.transformer import TransformerClassifier  # noqa: E402

TREC = REPO.parent / "shared" / "data" / "trec6"
SIZES = (100, 150, 175, 200, 275)


def fit_once(train: pd.DataFrame, test: pd.DataFrame, seed: int, min_steps: int) -> dict:
    labels = sorted(train.label.unique())
    rng = np.random.default_rng(seed)
    n = int(rng.choice(SIZES))
    rows = rng.choice(len(train), n, replace=False)
    y = train.label.iloc[rows].map(labels.index).to_numpy()
    started = time.perf_counter()
    clf = TransformerClassifier(len(labels), seed=seed, min_steps=min_steps)
    clf.fit(train.text.iloc[rows].tolist(), y)
    predicted = clf.predict_proba(test.text.tolist()).argmax(axis=1)
    accuracy = float((predicted == test.label.map(labels.index).to_numpy()).mean())
    return {
        "seed": seed,
        "n": n,
        "min_steps": min_steps,
        "accuracy": accuracy,
        "seconds": round(time.perf_counter() - started, 1),
        **clf.train_info_,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,4,6")
    parser.add_argument("--min-steps", default="60,160")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/transformer_steps.json"
    )
    args = parser.parse_args()
    train = pd.read_parquet(TREC / "train.parquet")
    test = pd.read_parquet(TREC / "test.parquet")
    records = []
    for min_steps in (int(m) for m in args.min_steps.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            records.append(fit_once(train, test, seed, min_steps))
            print(json.dumps(records[-1]), flush=True)
    args.out.write_text(json.dumps({"fits": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()
