"""``alflow simulate`` end to end through the installed script, on a small slice of TREC-6."""

import json

import pandas as pd
import pytest
from cli_helpers import run_alflow

from tests.conftest import TREC

pytestmark = pytest.mark.e2e

STRATEGIES = ["least-confidence", "prediction-entropy"]
SMALL = ["--classifier", "logreg", "--embedder", "tfidf", "--initial", "20"]
SMALL += ["--batch-size", "10", "--iterations", "3", "--seeds", "2"]


@pytest.fixture(scope="module")
def files(tmp_path_factory, prefect_env):
    tmp = tmp_path_factory.mktemp("cli_simulate")
    train = pd.read_parquet(TREC / "train.parquet").sample(300, random_state=1)
    test = pd.read_parquet(TREC / "test.parquet").sample(120, random_state=1)
    test = test[test["label"].isin(set(train["label"]))]
    train[["text", "label"]].to_parquet(tmp / "train.parquet", index=False)
    test[["text", "label"]].to_csv(tmp / "test.csv", index=False)
    odd = test.copy()
    odd.loc[odd.index[:3], "label"] = "SPORT"
    odd[["text", "label"]].to_csv(tmp / "test_odd.csv", index=False)
    return tmp, dict(prefect_env)  # one Prefect home per session: its database is made once


def test_simulate_prints_table_and_writes_report(files):
    tmp, env = files
    out = tmp / "out"
    r = run_alflow(
        "simulate",
        "--train",
        tmp / "train.parquet",
        "--test",
        tmp / "test.csv",
        "--strategy",
        ",".join(STRATEGIES),
        *SMALL,
        "--stopping",
        "max-iterations(max_iterations=2), any(kappa-average,label-budget(budget=30))",
        "--target",
        "0.3",
        "--out",
        out,
        env=env,
        check=True,
    )
    lines = r.stdout.splitlines()
    assert lines[0].endswith(" | logreg | tfidf")  # dataset | classifier | embedder
    assert lines[1].split()[:4] == ["strategy", "AUC", "+-seed", "final"]
    for name in [*STRATEGIES, "random"]:
        row = next(line for line in lines if line.startswith(name + " "))
        assert row.split()[5] == str(20 + 3 * 10)  # labels after the last round
        assert f"stop max-iterations(max_iterations=2) / {name}: fired in 2/2 seeds, at 40 " in (
            r.stdout
        )
    assert any(line.startswith("full-data accuracy: ") for line in lines)
    assert f"report: {out / 'report.md'}" in r.stdout
    assert f"plot:   {out / 'learning_curve.png'}" in r.stdout

    summary = json.loads((out / "summary.json").read_text())
    assert (summary["classifier"], summary["embedder"], summary["seeds"]) == (
        "logreg",
        "tfidf",
        [0, 1],
    )
    assert 0.0 <= summary["full_data_accuracy"] <= 1.0
    assert [e["strategy"] for e in summary["results"]] == [*STRATEGIES, "random"]
    assert summary["target"] == {"value": 0.3, "rule": "given"}
    for e in summary["results"]:
        assert e["labels"] == [20, 30, 40, 50]
        stop = e["stopped_at"]["any(kappa-average,label-budget(budget=30))"]
        assert (stop["iteration"], stop["labels"], stop["fired"]) == (1.0, 30.0, 2)
        assert e["labels_to_target"]["reached"] <= 2
        assert len(e["accuracy"]) == len(e["macro_f1"]) == len(e["accuracy_std"]) == 4
        assert 0.0 <= e["auc"] <= 1.0 and e["final_accuracy"] == e["accuracy"][-1]
        for key in ("query_seconds", "train_seconds", "wall_seconds"):
            assert e[key] >= 0
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "curve.csv").is_file() and (out / "report.md").is_file()


def _one_line_error(r, *fragments):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_unknown_strategy_names_the_choices(files):
    tmp, env = files
    r = run_alflow(
        "simulate",
        "--train",
        tmp / "train.parquet",
        "--test",
        tmp / "test.csv",
        "--strategy",
        "least-confidence,least-conf",
        "--out",
        tmp / "bad1",
        env=env,
    )
    _one_line_error(r, "unknown strategy 'least-conf'", "least-confidence, prediction-entropy")
    assert not (tmp / "bad1").exists()


@pytest.mark.parametrize(
    ("test_file", "extra", "fragments"),
    [
        (
            "test.csv",
            ["--label-column", "category"],
            ["no label column 'category'", "the columns are text, label"],
        ),
        (
            "test_odd.csv",
            [],
            ["test_odd.csv: 3 rows have labels that the training file lacks: SPORT"],
        ),
    ],
    ids=["missing-label-column", "test-labels-not-in-train"],
)
def test_bad_data_fails_with_one_line(files, test_file, extra, fragments):
    tmp, env = files
    r = run_alflow(
        "simulate",
        "--train",
        tmp / "train.parquet",
        "--test",
        tmp / test_file,
        "--strategy",
        "least-confidence",
        *SMALL,
        *extra,
        "--out",
        tmp / "bad2",
        env=env,
    )
    _one_line_error(r, *fragments)
    assert not (tmp / "bad2" / "summary.json").exists()
