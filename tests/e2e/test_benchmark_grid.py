"""benchmarks/grid.py on a tiny grid: cells, combined tables, and resumption after a kill.

TREC-6 slices (300 train / 100 test, TF-IDF + logreg), one strategy plus the random baseline,
2 seeds, 2 rounds of 10. The first run, a real process, is killed (SIGKILL from the
ALFLOW_CRASHPOINT hook) right after its second cell; the second run (in this process, to save
the start-up time) must reuse those two cells untouched and compute only the other two.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO, TREC

pytestmark = pytest.mark.e2e

ARGS = [
    "--datasets", str(TREC), "--classifiers", "logreg", "--strategies", "least-confidence",
    "--seeds", "2", "--initial", "20", "--batch-size", "10", "--iterations", "2",
    "--max-train", "300", "--max-test", "100", "--stopping-set-size", "100",
    "--stopping", "kappa-average,max-iterations(max_iterations=1)",
]  # fmt: skip


def grid_process(out, crash):
    env = {**os.environ, "ALFLOW_CRASHPOINT": crash}
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "grid.py"), *ARGS, "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def grid_main(out, capsys, *extra):
    """``main()`` of benchmarks/grid.py in this process; returns its last JSON line."""
    spec = importlib.util.spec_from_file_location("alflow_grid", REPO / "benchmarks" / "grid.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    capsys.readouterr()
    assert module.main([*ARGS, "--out", str(out), *extra]) == 0
    printed = capsys.readouterr().out
    return printed, json.loads(printed.strip().splitlines()[-1])


def cells(out):
    return sorted(out.glob("cells/trec6/logreg/*/seed-*.json"))


def test_killed_grid_resumes_and_combines(tmp_path, capsys):
    out = tmp_path / "grid"
    first = grid_process(out, crash="grid-cell-2")
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert "grid: 4 cells, 0 already done, 4 to run" in first.stdout
    done = {p: p.read_bytes() for p in cells(out)}
    assert len(done) == 2 and not (out / "table.csv").exists()

    printed, result = grid_main(out, capsys)
    assert "grid: 4 cells, 2 already done, 2 to run" in printed
    assert all(p.read_bytes() == data for p, data in done.items())  # reused, not redone
    assert len(cells(out)) == 4
    assert (result["cells"], result["computed"], result["reused"]) == (4, 2, 2)

    with open(out / "table.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["strategy"] for r in table] == ["least-confidence", "random"]
    for row in table:
        assert row["dataset"] == "trec6" and row["seeds"] == "2" and row["final_labels"] == "40"
        assert float(row["auc_min"]) <= float(row["auc"]) <= float(row["auc_max"])
    with open(out / "stopping.csv", newline="") as fh:
        stops = {(r["strategy"], r["criterion"]): r for r in csv.DictReader(fh)}
    maxit = stops[("random", "max-iterations(max_iterations=1)")]
    assert (maxit["fired"], maxit["iteration"], maxit["labels"]) == ("2", "1.0", "30.0")
    assert maxit["labels_saved"] == "0.25"  # 30 of 40 labels
    summary = json.loads((out / "reports" / "trec6__logreg" / "summary.json").read_text())
    assert [e["strategy"] for e in summary["results"]] == ["least-confidence", "random"]
    assert (out / "reports" / "trec6__logreg" / "learning_curve.png").is_file()
    assert (out / "auc.png").read_bytes()[:4] == b"\x89PNG"

    # A finished grid computes nothing; other run settings are refused for the same folder.
    assert grid_main(out, capsys)[1]["computed"] == 0
    assert grid_main(out, capsys, "--combine-only")[1]["computed"] == 0
    with pytest.raises(SystemExit, match="other settings \\(iterations\\)"):
        grid_main(out, capsys, "--iterations", "3")
