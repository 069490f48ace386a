"""The labelling loop against a real Label Studio server, driven through the ``alflow`` CLI.

A scripted annotator answers through Label Studio's REST API with TREC-6's gold labels: a
partial batch, a skipped task, a relabel, two annotators who disagree. Nothing is moved by
hand: every exchange goes through the server.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from cli_helpers import run_alflow, status_json

from tests.conftest import TREC, TREC_LABELS
from tests.labelstudio_helpers import Annotator
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

SECOND = "second.annotator@example.com"


def _wrong(label: str) -> str:
    return next(other for other in TREC_LABELS if other != label)


@pytest.fixture(scope="module")
def trec_template(tmp_path_factory):
    """A workspace with TREC-6 train as the pool (ids and texts only) and test as eval, built
    once (two ingests) and copied by each test; the gold labels are kept aside."""
    root = tmp_path_factory.mktemp("trec-template")
    train = pd.read_parquet(TREC / "train.parquet")
    train["id"] = [f"q{i:05d}" for i in range(len(train))]
    train[["id", "text"]].to_parquet(root / "pool.parquet")
    pd.read_parquet(TREC / "test.parquet")[["text", "label"]].to_parquet(root / "eval.parquet")
    ws = root / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    cfg = json.loads((ws / "alflow.json").read_text())
    cfg["active_learning"].update(
        classifier="logreg", batch_size=10, min_new_labels=5, max_iterations=1
    )
    (ws / "alflow.json").write_text(json.dumps(cfg))
    run_alflow("ingest", ws, root / "pool.parquet", check=True)
    run_alflow("ingest", ws, root / "eval.parquet", "--role", "eval", check=True)
    return ws, dict(zip(train.id, train.label, strict=True))


def _new_workspace(tmp_path, template: Path, url: str, env: dict, retries: int = 4) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    r = run_alflow(
        "connect", ws, "--label-studio", url, "--retries", str(retries), env=env, check=True
    )
    assert "batches go to Label Studio" in r.stdout
    return ws


def _iterate(ws, env, outputs, check=True):
    r = run_alflow("iterate", ws, env=env, check=check)
    outputs.append(r.stdout + r.stderr)
    return r


def _sent(record: list, item: str, who: str, ann: dict, labels: list[str] | None) -> None:
    """Remember an annotation version as the annotator sent it."""
    key = f"ls-annotation:{ann['id']}@{ann['updated_at']}"
    record.append((key, item, who, tuple(sorted(labels or [])), labels is None))


def _env(prefect_env, prefect_api, label_studio) -> dict:
    """Runs go to the session's Prefect server (no temporary server per command)."""
    return {
        **prefect_env,
        "PREFECT_API_URL": prefect_api.url,
        "LABEL_STUDIO_API_KEY": label_studio.token,
    }


def test_loop_through_label_studio(tmp_path, trec_template, prefect_env, prefect_api, label_studio):
    template, gold = trec_template
    env = _env(prefect_env, prefect_api, label_studio)
    outputs: list[str] = []
    ws = _new_workspace(tmp_path, template, label_studio.url, env)
    pid = json.loads((ws / "alflow.json").read_text())["queue"]["project_id"]
    assert isinstance(pid, int)
    ls = Annotator(label_studio.url, label_studio.token)
    admin = "admin@example.com"
    second = ls.create_user(SECOND)
    sent: list[tuple] = []

    # Iteration 1: a first batch, no model yet, so no predictions.
    r = _iterate(ws, env, outputs)
    assert "iteration 1: initial" in r.stdout, r.stdout + r.stderr
    tasks = ls.task_of(pid)
    assert len(tasks) == 10 and all(t["predictions"] == [] for t in tasks.values())
    ids = sorted(tasks)

    # A partial batch: 6 answered, 1 skipped, 3 unanswered; the second annotator also answers
    # three items and disagrees on one; one first answer is wrong (relabelled later).
    for item in ids[:6]:
        label = _wrong(gold[item]) if item == ids[0] else gold[item]
        _sent(sent, item, admin, ls.annotate(tasks[item]["id"], [label]), [label])
    _sent(sent, ids[6], admin, ls.skip(tasks[ids[6]]["id"]), None)
    for item in ids[1:4]:
        label = _wrong(gold[item]) if item == ids[1] else gold[item]
        _sent(sent, item, SECOND, ls.annotate(tasks[item]["id"], [label], user=second), [label])

    # Iteration 2 pulls them (no file moved), trains, exports a batch with predictions.
    r = _iterate(ws, env, outputs)
    assert "iteration 2: completed" in r.stdout, r.stdout + r.stderr
    # 9 answers (6 + 3 of the second annotator) of items without a label, 1 skip.
    assert "9 new, 0 changed, 0 unchanged, 1 skipped, 0 rejected" in r.stdout
    project = ls.project(pid)
    tasks = ls.task_of(pid)
    batch2 = sorted(i for i, t in tasks.items() if t["data"]["alflow_batch"] == "batch-0002")
    assert len(batch2) == 10
    versions = {t["predictions"][0]["model_version"] for i, t in tasks.items() if i in batch2}
    assert versions == {project["model_version"]} and project["model_version"].startswith(
        "iter-0002"
    )
    scores = [tasks[i]["predictions"][0]["score"] for i in batch2]
    assert all(0 < s <= 1 for s in scores)  # the model's confidence in its label
    assert all("query_score" in tasks[i]["meta"] for i in batch2)

    # Nothing new: the next scheduled run says so without retraining.
    r = _iterate(ws, env, outputs)
    assert "only 0 new labels" in r.stdout

    # The relabel (an edit of the first answer), and batch 2 answered.
    first = next(t for t in tasks[ids[0]]["annotations"] if t["completed_by"] != second)
    _sent(sent, ids[0], admin, ls.relabel(first["id"], [gold[ids[0]]]), [gold[ids[0]]])
    for item in batch2:
        _sent(sent, item, admin, ls.annotate(tasks[item]["id"], [gold[item]]), [gold[item]])

    # Iteration 3 trains the second model, after one query round: max-iterations (1) stops.
    r = _iterate(ws, env, outputs)
    assert "iteration 3: stopped" in r.stdout, r.stdout + r.stderr
    # The edit is a new version of its annotation: the relabel counts as a change.
    assert "10 new, 1 changed, 0 unchanged, 0 skipped, 0 rejected" in r.stdout
    assert "stopping: " in r.stdout
    # The unanswered items of batch 1 (the skipped one was answered) leave the project.
    assert "withdrew 3 unanswered items: the active-learning loop stopped" in r.stdout
    left = ls.task_of(pid)
    assert sorted(set(ids) - set(left)) == ids[7:]

    # The label history is exactly what the annotators sent, one event per annotation version.
    assert status_json(ws)["labelled"] == 6 + 10
    from al_core.storage import Workspace

    stored = Workspace.open(ws).query(
        "SELECT external_key, id, annotator, labels, skipped FROM label_events "
        "WHERE source = 'label-studio'"
    )
    got = sorted(
        (k, i, a, tuple(sorted(ls_)), bool(s))
        for k, i, a, ls_, s in zip(
            stored.external_key,
            stored.id,
            stored.annotator,
            stored.labels,
            stored.skipped,
            strict=True,
        )
    )
    assert got == sorted(sent)

    # Disagreements: the item both annotators labelled differently, with the agreement.
    r = run_alflow("disagreements", ws, "--json", check=True)
    report = json.loads(r.stdout)
    assert [it["id"] for it in report["items"]] == [ids[1]]
    assert report["items_shared"] == 3 and report["items_disagreed"] == 1
    assert report["krippendorff_alpha"] is not None and report["krippendorff_alpha"] < 1
    votes = {v["annotator"] for v in report["items"][0]["votes"]}
    assert votes == {admin, SECOND}
    r = run_alflow("disagreements", ws, "--review", env=env, check=True)
    assert "sent 1 items for review as review-0001" in r.stdout
    review = [t for t in ls.tasks(pid) if t["data"].get("alflow_batch") == "review-0001"]
    assert len(review) == 1 and SECOND in review[0]["data"]["alflow_note"]

    st = status_json(ws)
    assert st["queue"]["queue"] == "label-studio" and st["stopped"]

    # The Prefect UI shows the loop: the learning curve so far, read back through the API.
    from al_core.pipeline import workspace_key
    from tests.prefect_helpers import flow_runs, latest_artifact

    key = workspace_key(str(ws))
    curve = latest_artifact(prefect_api.url, f"{key}-learning-curve")
    assert [(r["iteration"], r["labels"]) for r in curve] == [(2, 6), (3, 16)]
    assert all(0 <= r["accuracy"] <= 1 for r in curve)
    runs = flow_runs(prefect_api.url, flow_runs={"tags": {"all_": [f"workspace:{key}"]}})
    names = {r["name"] for r in runs}
    assert {f"{key}-iteration-{n}" for n in (1, 2, 3)} <= names
    assert any("iteration:3" in r["tags"] and "mode:train" in r["tags"] for r in runs)

    # The token is nowhere: not in the workspace, the command output or Prefect's database.
    token = label_studio.token.encode()
    for root in (ws, Path(prefect_env["PREFECT_HOME"]), prefect_api.workdir):
        for path in root.rglob("*"):
            if path.is_file():
                assert token not in path.read_bytes(), f"token found in {path}"
    assert all(label_studio.token not in text for text in outputs)
    ls.close()


def test_label_studio_down_mid_run(tmp_path, trec_template, prefect_env, prefect_api, label_studio):
    """The server goes away during the export: one line, nothing lost; the next run finishes."""
    template, gold = trec_template
    proxy = TcpProxy(label_studio.url)
    env = _env(prefect_env, prefect_api, label_studio)
    outputs: list[str] = []
    try:
        ws = _new_workspace(tmp_path, template, proxy.url, env, retries=1)
        pid = json.loads((ws / "alflow.json").read_text())["queue"]["project_id"]
        ls = Annotator(label_studio.url, label_studio.token)
        assert "iteration 1: initial" in _iterate(ws, env, outputs).stdout
        tasks = ls.task_of(pid)
        for item, task in tasks.items():
            ls.annotate(task["id"], [gold[item]])

        # Label Studio stops when the next batch is being imported (after the pull).
        proxy.stop_on(b"POST /api/projects/")
        r = _iterate(ws, env, outputs, check=False)
        assert r.returncode != 0
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, r.stderr
        assert f"Label Studio at {proxy.url}" in errors[0] and "batch-0002 is kept" in errors[0]
        assert "Traceback" not in r.stdout + r.stderr
        kept = json.loads((ws / "queue" / "outbox" / "batch-0002.json").read_text())
        assert len(kept) == 10
        assert not any(t["data"]["alflow_batch"] == "batch-0002" for t in ls.tasks(pid))
        assert status_json(ws)["iterations"] == 0  # nothing recorded

        # Back up: the next run pulls, retrains and sends the same batch, once.
        proxy.start()
        r = _iterate(ws, env, outputs)
        assert "iteration 2: completed" in r.stdout, r.stdout + r.stderr
        sent = [t for t in ls.tasks(pid) if t["data"]["alflow_batch"] == "batch-0002"]
        assert sorted(t["data"]["alflow_id"] for t in sent) == sorted(
            t["data"]["alflow_id"] for t in kept
        )
        assert all(label_studio.token not in text for text in outputs)
        ls.close()
    finally:
        proxy.close()


def test_token_from_a_prefect_secret_block(tmp_path, trec_template, prefect_api, label_studio):
    """No token in the environment: `connect` and the runs read the Secret block by name."""
    import subprocess
    import sys

    env = {"PREFECT_API_URL": prefect_api.url, "PREFECT_HOME": str(tmp_path / "home")}
    save = (
        "import os; from prefect.blocks.system import Secret; "
        "Secret(value=os.environ['NEW_TOKEN']).save('alflow-test-ls-token', overwrite=True)"
    )
    subprocess.run(
        [sys.executable, "-c", save],
        env={**os.environ, **env, "NEW_TOKEN": label_studio.token},
        check=True,
        capture_output=True,
        timeout=300,
    )
    template, _ = trec_template
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    env = {**env, "LABEL_STUDIO_API_KEY": ""}
    r = run_alflow(
        "connect",
        ws,
        "--label-studio",
        label_studio.url,
        "--token-block",
        "alflow-test-ls-token",
        env=env,
        check=True,
    )
    assert "Prefect Secret block 'alflow-test-ls-token'" in r.stdout
    cfg = json.loads((ws / "alflow.json").read_text())
    assert isinstance(cfg["queue"]["project_id"], int)
    assert cfg["queue"]["token_block"] == "alflow-test-ls-token"
    r = run_alflow("iterate", ws, env=env, check=True)
    assert "iteration 1: initial" in r.stdout
    assert label_studio.token.encode() not in (ws / "alflow.json").read_bytes()
