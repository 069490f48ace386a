"""summarize / write_outputs / format_table against the summary.json contract."""

from __future__ import annotations

import csv
import json

import pytest

from al_core.simulation import SimulationRun, format_table, simulate, summarize, write_outputs
from tests.al_core.learner.al_fakes import (
    LeastConfidence,
    RandomInit,
    RandomQuery,
    logreg_factory,
    make_data,
)

META = {
    "dataset": "toy",
    "classifier": "logreg",
    "embedder": "identity",
    "seeds": [0, 1],
    "full_data_accuracy": 0.95,
    "settings": {"initial": 10, "batch_size": 10, "iterations": 2},
}
RESULT_KEYS = {
    "strategy",
    "labels",
    "accuracy",
    "macro_f1",
    "accuracy_std",
    "macro_f1_std",
    "auc",
    "final_accuracy",
    "query_seconds",
    "train_seconds",
    "wall_seconds",
}


def handmade_runs() -> list[SimulationRun]:
    """Numbers chosen so that every aggregate is easy to compute by hand."""
    return [
        SimulationRun("margin", 0, [10, 20, 30], [0.6, 0.8, 0.9], [0.5, 0.7, 0.8], 1.0, 2.0, 4.0),
        SimulationRun("random", 0, [10, 20, 30], [0.5, 0.6, 0.7], [0.4, 0.5, 0.6], 1.0, 2.0, 4.0),
        SimulationRun("random", 1, [10, 20, 30], [0.7, 0.8, 0.9], [0.6, 0.7, 0.8], 3.0, 4.0, 6.0),
        # The pool ran out one round early for this seed.
        SimulationRun("margin", 1, [10, 20], [0.8, 0.9], [0.7, 0.8], 3.0, 6.0, 8.0),
    ]


def test_summary_contract_and_hand_values():
    summary = summarize(handmade_runs(), **META)
    assert set(summary) == {
        "dataset",
        "classifier",
        "embedder",
        "seeds",
        "full_data_accuracy",
        "settings",
        "results",
        "notes",
    }
    assert summary["seeds"] == [0, 1] and summary["full_data_accuracy"] == 0.95
    assert [e["strategy"] for e in summary["results"]] == ["margin", "random"]  # first seen

    margin, rand = summary["results"]
    for entry in (margin, rand):
        assert set(entry) == RESULT_KEYS
        n = len(entry["labels"])
        for key in ("accuracy", "macro_f1", "accuracy_std", "macro_f1_std"):
            assert len(entry[key]) == n and all(isinstance(v, float) for v in entry[key])
        assert all(isinstance(v, int) for v in entry["labels"])
        assert 0.0 <= entry["auc"] <= 1.0

    assert rand["labels"] == [10, 20, 30]
    assert rand["accuracy"] == pytest.approx([0.6, 0.7, 0.8])
    assert rand["accuracy_std"] == pytest.approx([0.1, 0.1, 0.1])  # population std
    assert rand["macro_f1"] == pytest.approx([0.5, 0.6, 0.7])
    assert rand["auc"] == pytest.approx(0.7)
    assert rand["final_accuracy"] == pytest.approx(0.8)
    assert (rand["query_seconds"], rand["train_seconds"], rand["wall_seconds"]) == (2.0, 3.0, 5.0)

    # margin is truncated to the shorter seed's 2 points.
    assert margin["labels"] == [10, 20]
    assert margin["accuracy"] == pytest.approx([0.7, 0.85])
    assert margin["accuracy_std"] == pytest.approx([0.1, 0.05])
    assert margin["auc"] == pytest.approx(0.775)
    assert any("margin" in n and "truncated" in n for n in summary["notes"])
    json.dumps(summary)  # plain JSON types only


def test_summary_needs_runs():
    with pytest.raises(ValueError, match="at least one run"):
        summarize([], **META)


def test_write_outputs_files(tmp_path):
    runs = handmade_runs()
    summary = summarize(runs, **META)
    paths = write_outputs(summary, runs, tmp_path / "out")
    assert set(paths) == {"summary", "curve", "plot", "report"}
    assert {p.name for p in paths.values()} == {
        "summary.json",
        "curve.csv",
        "learning_curve.png",
        "report.md",
    }
    assert not list((tmp_path / "out").glob(".tmp-*"))

    assert json.loads(paths["summary"].read_text()) == summary

    with paths["curve"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["strategy", "seed", "iteration", "labels", "accuracy", "macro_f1"]
    assert len(rows) == 3 + 3 + 3 + 2  # every point of every run, untruncated
    assert rows[0] == {
        "strategy": "margin",
        "seed": "0",
        "iteration": "0",
        "labels": "10",
        "accuracy": "0.6",
        "macro_f1": "0.5",
    }
    assert [r["iteration"] for r in rows[-2:]] == ["0", "1"]

    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    report = paths["report"].read_text()
    assert "| Strategy | AUC | Final accuracy | Final macro-F1 | Query s | Train s |" in report
    assert "| margin | 0.7750 | 0.8500 +- 0.0500 | 0.7500 +- 0.0500 | 2.00 | 4.00 |" in report
    assert "| random | 0.7000 |" in report
    assert "![Learning curve](learning_curve.png)" in report
    assert "0.9500" in report  # the full-data score
    # The reading compares with random in numbers computed from the table.
    assert "random baseline reaches an AUC of 0.7000" in report
    assert "margin scores 0.7750, 0.0750 (+10.7%) above random" in report
    assert "truncated" in report  # notes are shown


def test_report_without_random_baseline_or_full_data(tmp_path):
    runs = [r for r in handmade_runs() if r.strategy == "margin"]
    summary = summarize(runs, **(META | {"full_data_accuracy": None}))
    paths = write_outputs(summary, runs, tmp_path)
    report = paths["report"].read_text()
    assert "No random baseline was run" in report
    assert "not computed" in report
    assert paths["plot"].read_bytes().startswith(b"\x89PNG")


def test_below_random_is_reported_as_below():
    runs = [
        SimulationRun("random", 0, [10, 20], [0.8, 0.8], [0.8, 0.8]),
        SimulationRun("bad", 0, [10, 20], [0.6, 0.6], [0.6, 0.6]),
    ]
    summary = summarize(runs, **(META | {"seeds": [0]}))
    text = format_table(summary)
    assert "random" in text and "bad" in text and "0.6000" in text
    from al_core.simulation.report import interpret

    reading = interpret(summary)
    assert "bad scores 0.6000, 0.2000 (-25.0%) below random" in reading
    assert "No strategy beat random" in reading


def test_format_table_lists_every_strategy():
    summary = summarize(handmade_runs(), **META)
    lines = format_table(summary).splitlines()
    assert lines[0] == "toy | logreg | identity"
    assert lines[1].split()[:3] == ["strategy", "AUC", "final"]
    assert any(line.startswith("margin") and "0.7750" in line for line in lines)
    assert any(line.startswith("random") and "0.7000" in line for line in lines)
    assert "full-data accuracy: 0.9500" in lines


def test_end_to_end_from_simulations(tmp_path):
    X, y = make_data(n_samples=240)
    runs = [
        simulate(
            X[:160],
            y[:160],
            X[160:],
            y[160:],
            classifier_factory=logreg_factory(3),
            strategy=strategy,
            initializer=RandomInit(),
            initial=10,
            batch_size=10,
            iterations=2,
            seed=seed,
        )
        for strategy in (RandomQuery(), LeastConfidence())
        for seed in (0, 1)
    ]
    summary = summarize(runs, **META)
    assert [e["strategy"] for e in summary["results"]] == ["random", "least-confidence"]
    assert summary["notes"] == []
    for entry in summary["results"]:
        assert entry["labels"] == [10, 20, 30]
        assert 0.0 <= entry["auc"] <= 1.0
    paths = write_outputs(summary, runs, tmp_path)
    assert "least-confidence scores" in paths["report"].read_text()


def test_missing_seed_is_noted():
    runs = [r for r in handmade_runs() if r.seed == 0]
    summary = summarize(runs, **META)
    assert any("not for all of [0, 1]" in n for n in summary["notes"])
    assert summary["results"][0]["accuracy_std"] == [0.0, 0.0, 0.0]
