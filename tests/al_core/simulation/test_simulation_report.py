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
    "micro_f1",
    "accuracy_std",
    "macro_f1_std",
    "micro_f1_std",
    "auc",
    "auc_seeds",
    "auc_spread",
    "final_accuracy",
    "final_score",
    "labels_to_target",
    "stopped_at",
    "query_seconds",
    "train_seconds",
    "wall_seconds",
}
NA = "not applicable: kappa-average supports single-label tasks only"


def handmade_runs() -> list[SimulationRun]:
    """Numbers chosen so that every aggregate is easy to compute by hand."""
    runs = [
        SimulationRun("margin", 0, [10, 20, 30], [0.6, 0.8, 0.9], [0.5, 0.7, 0.8], 1.0, 2.0, 4.0),
        SimulationRun("random", 0, [10, 20, 30], [0.5, 0.6, 0.7], [0.4, 0.5, 0.6], 1.0, 2.0, 4.0),
        SimulationRun("random", 1, [10, 20, 30], [0.7, 0.8, 0.9], [0.6, 0.7, 0.8], 3.0, 4.0, 6.0),
        # The pool ran out one round early for this seed.
        SimulationRun("margin", 1, [10, 20], [0.8, 0.9], [0.7, 0.8], 3.0, 6.0, 8.0),
    ]
    # kappa fired at point 1 in margin seed 0 only; "never" could not judge anywhere.
    for r in runs:
        fired = r.strategy == "margin" and r.seed == 0
        r.stopping = {
            "kappa-average": {"point": 1 if fired else None, "reason": "x", "applicable": True},
            "never": {"point": None, "reason": NA, "applicable": False},
        }
    return runs


def test_summary_contract_and_hand_values():
    summary = summarize(handmade_runs(), **META)
    assert set(summary) == {
        "dataset",
        "classifier",
        "embedder",
        "seeds",
        "metric",
        "full_data_accuracy",
        "full_data_score",
        "target",
        "settings",
        "results",
        "notes",
    }
    assert summary["seeds"] == [0, 1] and summary["full_data_accuracy"] == 0.95
    assert summary["metric"] == "accuracy" and summary["full_data_score"] == 0.95
    assert summary["target"]["value"] == pytest.approx(0.9025)  # 95% of full data
    assert [e["strategy"] for e in summary["results"]] == ["margin", "random"]  # first seen

    margin, rand = summary["results"]
    for entry in (margin, rand):
        assert set(entry) == RESULT_KEYS
        n = len(entry["labels"])
        for key in ("accuracy", "macro_f1", "micro_f1", "accuracy_std", "macro_f1_std"):
            assert len(entry[key]) == n and all(isinstance(v, float) for v in entry[key])
        assert all(isinstance(v, int) for v in entry["labels"])
        assert 0.0 <= entry["auc"] <= 1.0
        assert entry["micro_f1"] == entry["accuracy"]  # single-label runs without micro-F1

    assert rand["labels"] == [10, 20, 30]
    assert rand["accuracy"] == pytest.approx([0.6, 0.7, 0.8])
    assert rand["accuracy_std"] == pytest.approx([0.1, 0.1, 0.1])  # population std
    assert rand["macro_f1"] == pytest.approx([0.5, 0.6, 0.7])
    assert rand["auc"] == pytest.approx(0.7)
    assert rand["final_accuracy"] == pytest.approx(0.8) == rand["final_score"]
    assert (rand["query_seconds"], rand["train_seconds"], rand["wall_seconds"]) == (2.0, 3.0, 5.0)
    # AUC per seed: (0.55 + 0.65) / 2 = 0.6 and (0.75 + 0.85) / 2 = 0.8.
    assert [a["auc"] for a in rand["auc_seeds"]] == pytest.approx([0.6, 0.8])
    assert rand["auc_spread"]["mean"] == pytest.approx(0.7)
    assert rand["auc_spread"]["std"] == pytest.approx(0.2 / 2**0.5)  # sample std
    assert (rand["auc_spread"]["min"], rand["auc_spread"]["max"]) == pytest.approx((0.6, 0.8))

    # margin is truncated to the shorter seed's 2 points.
    assert margin["labels"] == [10, 20]
    assert margin["accuracy"] == pytest.approx([0.7, 0.85])
    assert margin["accuracy_std"] == pytest.approx([0.1, 0.05])
    assert margin["auc"] == pytest.approx(0.775)
    assert [a["auc"] for a in margin["auc_seeds"]] == pytest.approx([0.7, 0.85])
    assert any("margin" in n and "truncated" in n for n in summary["notes"])
    json.dumps(summary)  # plain JSON types only


def test_stopped_at_hand_values():
    margin, rand = summarize(handmade_runs(), **META)["results"]
    kappa = margin["stopped_at"]["kappa-average"]
    assert (kappa["fired"], kappa["seeds"]) == (1, 2)
    assert (kappa["iteration"], kappa["labels"]) == (1.0, 20.0)
    assert kappa["accuracy"] == pytest.approx(0.8) == kappa["score"]
    # seed 0 stops at 0.8 of a final 0.9 with 20 of 30 labels; seed 1 never stops (0, 0).
    assert kappa["score_drop"] == pytest.approx((0.1 + 0.0) / 2)
    assert kappa["labels_saved"] == pytest.approx((1 / 3 + 0.0) / 2)
    assert kappa["not_applicable"] is None
    assert kappa["per_seed"] == [
        {"seed": 0, "iteration": 1, "labels": 20, "accuracy": 0.8, "score": 0.8},
        {"seed": 1, "iteration": None},
    ]
    never = rand["stopped_at"]["kappa-average"]
    assert never["fired"] == 0 and never["iteration"] is None and never["labels"] is None
    assert never["accuracy"] is None and never["labels_saved"] == 0.0
    assert rand["stopped_at"]["never"]["not_applicable"] == NA.removeprefix("not applicable: ")


def test_labels_to_target():
    margin, rand = summarize(handmade_runs(), **(META | {"target": 0.8}))["results"]
    assert margin["labels_to_target"] == {"per_seed": [20, 10], "reached": 2, "mean": 15.0}
    assert rand["labels_to_target"] == {"per_seed": [None, 20], "reached": 1, "mean": 20.0}
    default = summarize(handmade_runs(), **META)["results"][1]["labels_to_target"]
    assert default == {"per_seed": [None, None], "reached": 0, "mean": None}  # 0.9025 unmet
    no_target = summarize(handmade_runs(), **(META | {"full_data_accuracy": None}))
    assert no_target["target"] is None
    assert no_target["results"][0]["labels_to_target"] is None


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
    assert list(rows[0]) == [
        "strategy",
        "seed",
        "iteration",
        "labels",
        "accuracy",
        "macro_f1",
        "micro_f1",
    ]
    assert len(rows) == 3 + 3 + 3 + 2  # every point of every run, untruncated
    assert rows[0] == {
        "strategy": "margin",
        "seed": "0",
        "iteration": "0",
        "labels": "10",
        "accuracy": "0.6",
        "macro_f1": "0.5",
        "micro_f1": "0.6",
    }
    assert [r["iteration"] for r in rows[-2:]] == ["0", "1"]

    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    report = paths["report"].read_text()
    assert (
        "| Strategy | AUC | AUC per seed | Final accuracy | Final macro-F1 | Labels to target "
        "| Query s | Train s |" in report
    )
    assert (
        "| margin | 0.7750 | 0.7750 +- 0.1061 [0.7000, 0.8500] | 0.8500 +- 0.0500 | "
        "0.7500 +- 0.0500 | not reached (0/2) | 2.00 | 4.00 |" in report
    )
    assert "| random | 0.7000 | 0.7000 +- 0.1414 [0.6000, 0.8000] |" in report
    assert "![Learning curve](learning_curve.png)" in report
    assert "0.9500" in report  # the full-data score
    # The reading compares with random in numbers computed from the table, with the noise.
    assert "random baseline reaches an AUC of 0.7000" in report
    assert (
        "margin scores 0.7750, 0.0750 (+10.7%) above random; better in 2 of 2 seeds, "
        "within noise (per-seed AUC std up to 0.1414)" in report
    )
    assert "truncated" in report  # notes are shown
    # The stopping table: where kappa fired, and the criterion that never applied.
    assert "## Stopping" in report
    assert "| margin | kappa-average | 1/2 | 1.0 | 20 | 0.8000 | +0.0500 | 17% |" in report
    assert "| random | kappa-average | 0/2 | never | | | 0 | 0% |" in report
    assert "| margin | never | not applicable: kappa-average supports single-label" in report


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
    assert "bad scores 0.6000, 0.2000 (-25.0%) below random." in reading
    assert "No strategy beat random" in reading
    assert "With one seed there is no spread" in reading


def test_beyond_noise_is_said():
    runs = [
        SimulationRun("random", s, [10, 20], [a, a], [a, a]) for s, a in ((0, 0.50), (1, 0.52))
    ] + [SimulationRun("good", s, [10, 20], [a, a], [a, a]) for s, a in ((0, 0.70), (1, 0.71))]
    from al_core.simulation.report import interpret

    reading = interpret(summarize(runs, **META))
    assert "good scores 0.7050, 0.1950 (+38.2%) above random; better in 2 of 2 seeds, " in reading
    assert "beyond noise (per-seed AUC std up to 0.0141)" in reading


def test_format_table_lists_every_strategy():
    summary = summarize(handmade_runs(), **META)
    lines = format_table(summary).splitlines()
    assert lines[0] == "toy | logreg | identity"
    assert lines[1].split()[:4] == ["strategy", "AUC", "+-seed", "final"]
    assert any(line.startswith("margin") and "0.7750  0.1061" in line for line in lines)
    assert any(line.startswith("random") and "0.7000  0.1414" in line for line in lines)
    assert "full-data accuracy: 0.9500" in lines
    assert (
        "stop kappa-average / margin: fired in 1/2 seeds, at 20 labels (score 0.8000, "
        "+0.0500 below final, 17% of labels saved)" in lines
    )
    assert "stop kappa-average / random: never fired in 2 seeds" in lines
    assert (
        "stop never / random: not applicable (kappa-average supports single-label tasks only)"
        in lines
    )


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
