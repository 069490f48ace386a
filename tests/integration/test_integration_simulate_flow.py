"""The simulation flow under a real Prefect test server, on a small slice of TREC-6.

One flow run (logreg on TF-IDF, two strategies plus the random baseline, 2 seeds x 3 rounds,
with stopping criteria) is shared by the contract checks; a second call checks that a bad name
fails the run before any work is done; a third simulates multi-label GoEmotions (when
../shared/data is there).
"""

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from al_core.errors import ConfigError
from tests.conftest import REPO, TREC

pytestmark = pytest.mark.integration

STRATEGIES = ["least-confidence", "prediction-entropy"]
INITIAL, BATCH, ITERATIONS, SEEDS = 20, 10, 3, 2
STOPPING = ["max-iterations(max_iterations=2)", "kappa-average", "label-budget(budget=30)"]
RESULT_KEYS = {
    "strategy",
    "labels",
    "accuracy",
    "macro_f1",
    "accuracy_std",
    "auc",
    "final_accuracy",
    "auc_spread",
    "stopped_at",
    "query_seconds",
    "train_seconds",
    "wall_seconds",
}


def write_small_trec(folder, n_train=300, n_test=120):
    """Random slices of TREC-6 as Parquet; test rows keep only labels seen in train."""
    train = pd.read_parquet(TREC / "train.parquet").sample(n_train, random_state=0)
    test = pd.read_parquet(TREC / "test.parquet").sample(n_test, random_state=0)
    test = test[test["label"].isin(set(train["label"]))]
    folder.mkdir(parents=True, exist_ok=True)
    train[["text", "label"]].to_parquet(folder / "train.parquet", index=False)
    test[["text", "label"]].to_parquet(folder / "test.parquet", index=False)
    return folder / "train.parquet", folder / "test.parquet", len(train), len(test)


@pytest.fixture(scope="module")
def small_run(prefect_server, tmp_path_factory):
    from flows.simulate import simulate_flow

    tmp = tmp_path_factory.mktemp("simflow")
    train, test, n_train, n_test = write_small_trec(tmp / "data")
    out = tmp / "out"
    calls = []
    state = simulate_flow(
        train=str(train),
        test=str(test),
        strategies=STRATEGIES,
        classifier="logreg",
        embedder="tfidf",
        initial=INITIAL,
        batch_size=BATCH,
        iterations=ITERATIONS,
        seeds=SEEDS,
        out_dir=str(out),
        progress=lambda step, done, total: calls.append((step, done, total)),
        stopping=STOPPING,
        stopping_set_size=100,
        return_state=True,
    )
    return state, out, calls, (n_train, n_test)


def test_flow_run_completes_and_is_recorded(small_run):
    from prefect import get_client

    state, _, _, _ = small_run
    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        flow_ = client.read_flow(run.flow_id)
    assert flow_.name == "alflow-simulate"
    assert run.state.is_completed()
    assert run.parameters["strategies"] == STRATEGIES


def test_curve_is_a_table_artifact_the_ui_can_show(small_run):
    """The learning curve is a table (a local image path would not render in the UI)."""
    import json as _json

    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    state, _, _, _ = small_run
    summary = state.result()
    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["alflow-simulation-curve", "alflow-simulation-report"])
            )
        )
    by_key = {a.key: a for a in found}
    rows = _json.loads(by_key["alflow-simulation-curve"].data)
    for entry in summary["results"]:
        mine = [r for r in rows if r["strategy"] == entry["strategy"]]
        assert [r["labels"] for r in mine] == entry["labels"]
        assert [r["accuracy"] for r in mine] == [round(a, 4) for a in entry["accuracy"]]
    report = by_key["alflow-simulation-report"].data
    assert "![" not in report and "alflow-simulation-curve" in report


def test_summary_contract(small_run):
    state, _, _, (n_train, n_test) = small_run
    summary = state.result()
    assert {"dataset", "classifier", "embedder", "seeds", "results", "full_data_accuracy"} <= set(
        summary
    )
    assert (summary["classifier"], summary["embedder"]) == ("logreg", "tfidf")
    assert summary["seeds"] == list(range(SEEDS))
    assert 0.0 <= summary["full_data_accuracy"] <= 1.0
    assert [r["strategy"] for r in summary["results"]] == [*STRATEGIES, "random"]
    for r in summary["results"]:
        assert RESULT_KEYS <= set(r), r["strategy"]
        for key in ("labels", "accuracy", "macro_f1", "accuracy_std"):
            assert len(r[key]) == ITERATIONS + 1, (r["strategy"], key)
        assert r["labels"] == [INITIAL + i * BATCH for i in range(ITERATIONS + 1)]
        assert all(0.0 <= a <= 1.0 for a in r["accuracy"] + r["macro_f1"])
        assert 0.0 <= r["auc"] <= 1.0
        assert r["final_accuracy"] == r["accuracy"][-1]
        assert r["wall_seconds"] >= r["query_seconds"] >= 0
        # Every criterion is recorded per strategy; these two fire at a known point.
        stops = r["stopped_at"]
        assert list(stops) == STOPPING
        for name, point in (
            ("max-iterations(max_iterations=2)", 2),
            ("label-budget(budget=30)", 1),
        ):
            assert (stops[name]["fired"], stops[name]["iteration"]) == (SEEDS, point)
            assert stops[name]["labels"] == INITIAL + point * BATCH
            assert stops[name]["accuracy"] == pytest.approx(r["accuracy"][point])
        assert stops["kappa-average"]["not_applicable"] is None
    settings = summary["settings"]
    assert (settings["initial"], settings["batch_size"], settings["iterations"]) == (
        INITIAL,
        BATCH,
        ITERATIONS,
    )
    assert settings["initializer"] == "random"
    assert (settings["train_size"], settings["test_size"]) == (n_train, n_test)
    assert set(summary["timings"]) >= {"load_seconds", "embed_seconds", "simulate_seconds"}


def test_output_files(small_run):
    state, out, _, _ = small_run
    summary = state.result()
    assert json.loads((out / "summary.json").read_text()) == summary
    with open(out / "curve.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == (len(STRATEGIES) + 1) * SEEDS * (ITERATIONS + 1)
    assert {r["strategy"] for r in rows} == {*STRATEGIES, "random"}
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    for name in [*STRATEGIES, "random"]:
        assert name in report
    assert (
        "## Stopping" in report
        and "| random | label-budget(budget=30) | 2/2 | 1.0 | 30 |" in report
    )


def test_progress_reports_every_round(small_run):
    _, _, calls, _ = small_run
    total = (len(STRATEGIES) + 1) * SEEDS * ITERATIONS
    assert {t for _, _, t in calls} == {total}
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert any(step.startswith("embedding") for step, _, _ in calls)


def test_bad_name_fails_the_run_before_any_work(prefect_server, tmp_path):
    from flows.simulate import simulate_flow

    state = simulate_flow(
        train=str(tmp_path / "missing.parquet"),  # never read: the name check comes first
        test=str(tmp_path / "missing.parquet"),
        strategies=["least-confidence", "no-such-strategy"],
        out_dir=str(tmp_path / "out"),
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(ConfigError, match="no-such-strategy.*least-confidence"):
        state.result()
    assert not (tmp_path / "out").exists()


def test_plan_adds_random_once():
    from flows.simulate import plan_strategies

    assert plan_strategies(["least-confidence"]) == ["least-confidence", "random"]
    assert plan_strategies("random, least-confidence,random") == ["random", "least-confidence"]
    with pytest.raises(ConfigError, match="no strategy"):
        plan_strategies([" , "])


def shared_data() -> Path | None:
    """../shared/data beside the clone (CI), or two levels up (a worktree under wt/)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return None


def test_multi_label_goemotions(prefect_server, tmp_path):
    """GoEmotions slices (label lists): random sampling, micro-F1 curves, kappa not applicable."""
    from flows.simulate import simulate_flow

    data = shared_data()
    if data is None or not (data / "goemotions" / "train.parquet").exists():
        pytest.skip("GoEmotions not found in ../shared/data")
    train = pd.read_parquet(data / "goemotions" / "train.parquet").sample(400, random_state=0)
    test = pd.read_parquet(data / "goemotions" / "test.parquet").sample(150, random_state=0)
    known = {x for v in train["labels"] for x in v}
    test = test[[set(v) <= known for v in test["labels"]]]
    train[["text", "labels"]].to_parquet(tmp_path / "train.parquet", index=False)
    test[["text", "labels"]].to_parquet(tmp_path / "test.parquet", index=False)
    summary = simulate_flow(
        train=str(tmp_path / "train.parquet"),
        test=str(tmp_path / "test.parquet"),
        strategies=["random"],
        classifier="logreg",
        embedder="tfidf",
        label_column="labels",
        initial=40,
        batch_size=20,
        iterations=2,
        seeds=2,
        out_dir=str(tmp_path / "out"),
        stopping=["kappa-average", "delta-f(threshold=1,window_size=1)"],
        stopping_set_size=100,
    )
    assert summary["metric"] == "micro_f1" and summary["settings"]["multi_label"] is True
    assert len(summary["settings"]["label_set"].split(", ")) == len(known)
    (entry,) = summary["results"]
    assert entry["labels"] == [40, 60, 80]
    assert entry["final_score"] == entry["micro_f1"][-1]
    assert 0.0 <= entry["auc"] <= 1.0 and entry["auc"] == pytest.approx(
        entry["auc_spread"]["mean"], abs=1e-9
    )
    assert entry["stopped_at"]["kappa-average"]["not_applicable"] == (
        "kappa-average supports single-label tasks only"
    )
    assert entry["stopped_at"]["delta-f(threshold=1,window_size=1)"]["iteration"] == 1.0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Curve metric: micro-F1" in report and "not applicable" in report


def test_single_label_strategy_is_refused_on_multi_label_data(prefect_server, tmp_path):
    from flows.simulate import simulate_flow

    frame = pd.DataFrame({"text": [f"t{i}" for i in range(30)], "labels": [["a", "b"], ["b"]] * 15})
    frame.to_parquet(tmp_path / "ml.parquet", index=False)
    state = simulate_flow(
        train=str(tmp_path / "ml.parquet"),
        test=str(tmp_path / "ml.parquet"),
        strategies=["least-confidence"],
        classifier="logreg",
        embedder="tfidf",
        label_column="labels",
        out_dir=str(tmp_path / "out"),
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(ConfigError, match="strategy 'least-confidence' does not support multi"):
        state.result()
