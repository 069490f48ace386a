"""A labelling round trip through the installed ``alflow`` script and the file queue."""

import json
import signal

import pandas as pd
import pytest
from cli_helpers import run_alflow, status_json

from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_ws(tmp_path, prefect_env):
    train = pd.read_parquet(TREC / "train.parquet").iloc[:200].reset_index(drop=True)
    train["id"] = [f"q{i:04d}" for i in range(len(train))]
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    pd.read_parquet(TREC / "test.parquet").iloc[:60][["text", "label"]].to_csv(
        tmp_path / "eval.csv", index=False
    )
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    run_alflow("ingest", ws, tmp_path / "pool.csv", check=True)
    run_alflow("ingest", ws, tmp_path / "eval.csv", "--role", "eval", check=True)
    return ws, dict(zip(train.id, train.label, strict=True)), dict(prefect_env)


def test_iterate_export_import_labels_round_trip(tmp_path, cli_ws):
    ws, gold, env = cli_ws
    opts = ["--classifier", "logreg", "--batch-size", "10"]
    r = run_alflow("iterate", ws, *opts, env=env, check=True)
    assert "iteration 1: initial" in r.stdout and "exported 10 items" in r.stdout

    r = run_alflow("export", ws, "--out", tmp_path / "batch.json", check=True)
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert len(tasks) == 10 and all({"id", "text"} <= set(t["data"]) for t in tasks)
    stdout_tasks = json.loads(run_alflow("export", ws, check=True).stdout)
    assert stdout_tasks == tasks
    ids = [t["data"]["id"] for t in tasks]

    answers = tmp_path / "answers.csv"
    rows = [(i, gold[i]) for i in ids[:5]] + [("no-such-id", "HUM"), (ids[5], "MAYBE")]
    pd.DataFrame(rows, columns=["id", "label"]).to_csv(answers, index=False)
    r = run_alflow("import-labels", ws, answers, check=True)
    assert "5 new, 0 changed, 0 unchanged, 0 skipped, 2 rejected" in r.stdout
    assert "unknown id" in r.stdout and "unknown label" in r.stdout
    again = run_alflow("import-labels", ws, answers, check=True)
    assert "imported before, nothing added" in again.stdout

    relabel = tmp_path / "relabel.jsonl"
    other = next(lab for lab in TREC_LABELS if lab != gold[ids[0]])
    relabel.write_text(
        json.dumps({"id": ids[0], "label": other})
        + "\n"
        + json.dumps({"id": ids[1], "label": gold[ids[1]]})
        + "\n"
    )
    r = run_alflow("import-labels", ws, relabel, "--json", check=True)
    rep = json.loads(r.stdout)
    # ids[1]'s row repeats the annotation imported above (same label, annotator): no new event.
    assert (rep["new"], rep["changed"], rep["unchanged"], rep["rejected"]) == (0, 1, 0, 0)
    assert rep["already_imported"] == 1

    r = run_alflow("iterate", ws, *opts, "--min-new-labels", "3", env=env, check=True)
    assert "iteration 2: completed" in r.stdout and "accuracy" in r.stdout
    st = status_json(ws)
    assert st["labelled"] == 5 and st["iterations"] == 1 and st["quarantined"] == 2
    assert st["queue"]["current_batch"] == "batch-0002"
    assert st["queue"]["pending_items"] == 5 + 10  # unanswered half of batch 1, all of batch 2

    r = run_alflow("iterate", ws, *opts, env=env, check=True)
    assert "skipped" in r.stdout and "only 0 new labels" in r.stdout


def test_iterate_killed_while_recording_is_redone_without_change(tmp_path, cli_ws):
    ws, gold, env = cli_ws
    opts = ["--classifier", "logreg", "--batch-size", "10"]
    run_alflow("iterate", ws, *opts, env=env, check=True)
    ids = [t["data"]["id"] for t in json.loads(run_alflow("export", ws, check=True).stdout)]
    pd.DataFrame([(i, gold[i]) for i in ids], columns=["id", "label"]).to_csv(
        tmp_path / "a.csv", index=False
    )
    run_alflow("import-labels", ws, tmp_path / "a.csv", check=True)
    crashed = run_alflow("iterate", ws, *opts, env={**env, "ALFLOW_CRASHPOINT": "staged-part"})
    assert crashed.returncode == -signal.SIGKILL
    st = status_json(ws)
    assert st["iterations"] == 0 and st["next_iteration"] == 2
    exported = (ws / "queue" / "outbox" / "batch-0002.json").read_text()
    run_alflow("iterate", ws, *opts, env=env, check=True)
    st = status_json(ws)
    assert st["iterations"] == 1 and st["queue"]["current_batch"] == "batch-0002"
    assert (ws / "queue" / "outbox" / "batch-0002.json").read_text() == exported


def test_pipeline_commands_reject_bad_input(tmp_path, cli_ws):
    ws, _, env = cli_ws
    r = run_alflow("export", ws)
    assert r.returncode == 1 and "no batch exported yet" in r.stderr
    (tmp_path / "bad.json").write_text('[{"id": "q0001", ')
    r = run_alflow("import-labels", ws, tmp_path / "bad.json")
    assert r.returncode == 1 and "invalid JSON at line 1" in r.stderr
    r = run_alflow("iterate", ws, "--strategy", "nonsense", env=env)
    assert r.returncode == 1 and "unknown strategy 'nonsense'" in r.stderr
