"""``alflow simulate`` with new strategies that need embeddings, an index or batch selection,
and a cold-start initializer, on ``embedding-logreg`` (MiniLM) and a small slice of TREC-6."""

import json

import pandas as pd
import pytest
from cli_helpers import run_alflow

from tests.conftest import TREC

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STRATEGIES = ["badge", "greedy-coreset", "prob-cover", "cluster-margin", "seals"]


def test_simulate_runs_new_strategies_with_embeddings(tmp_path):
    train = pd.read_parquet(TREC / "train.parquet").sample(100, random_state=2)
    test = pd.read_parquet(TREC / "test.parquet").sample(40, random_state=2)
    test = test[test["label"].isin(set(train["label"]))]
    train[["text", "label"]].to_parquet(tmp_path / "train.parquet", index=False)
    test[["text", "label"]].to_parquet(tmp_path / "test.parquet", index=False)
    out = tmp_path / "out"
    run_alflow(
        "simulate",
        "--train",
        tmp_path / "train.parquet",
        "--test",
        tmp_path / "test.parquet",
        "--strategy",
        ",".join(STRATEGIES),
        "--classifier",
        "embedding-logreg",
        "--initializer",
        "typiclust",
        "--initial",
        "12",
        "--batch-size",
        "8",
        "--iterations",
        "2",
        "--seeds",
        "1",
        "--out",
        out,
        "--json",
        env={
            "PREFECT_HOME": str(tmp_path / "prefect"),
            # a loaded 2-core machine can take longer than the default 20 s to start it
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        },
        check=True,
    )
    summary = json.loads((out / "summary.json").read_text())
    rows = {r["strategy"]: r for r in summary["results"]}
    assert set(rows) == {*STRATEGIES, "random"}
    for name in STRATEGIES:
        assert rows[name]["labels"][-1] == 12 + 2 * 8, name
        assert 0.0 <= rows[name]["final_accuracy"] <= 1.0
