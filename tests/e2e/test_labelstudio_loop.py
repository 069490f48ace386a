"""The labelling loop against a real Label Studio server, driven through the ``alflow`` CLI.

A scripted annotator answers through Label Studio's REST API with TREC-6's gold labels: a
partial batch, a skipped task, a relabel, two annotators who disagree. Nothing is moved by
hand: every exchange goes through the server.
"""

from __future__ import annotations

import json
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


@pytest.fixture
def trec_files(tmp_path):
    """TREC-6 train as the pool (ids, texts; labels kept aside as gold), test as eval."""
    train = pd.read_parquet(TREC / "train.parquet")
    train["id"] = [f"q{i:05d}" for i in range(len(train))]
    train[["id", "text"]].to_parquet(tmp_path / "pool.parquet")
    pd.read_parquet(TREC / "test.parquet")[["text", "label"]].to_parquet(tmp_path / "eval.parquet")
    return (
        tmp_path / "pool.parquet",
        tmp_path / "eval.parquet",
        dict(zip(train.id, train.label, strict=True)),
    )


def _new_workspace(tmp_path, trec_files, url: str, env: dict, retries: int = 4) -> Path:
    pool, evalset, _ = trec_files
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    cfg = json.loads((ws / "alflow.json").read_text())
    cfg["active_learning"].update(
        classifier="logreg", batch_size=10, min_new_labels=5, max_iterations=2
    )
    (ws / "alflow.json").write_text(json.dumps(cfg))
    run_alflow("ingest", ws, pool, check=True)
    run_alflow("ingest", ws, evalset, "--role", "eval", check=True)
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


def test_loop_through_label_studio(tmp_path, trec_files, prefect_env, label_studio):
    _, _, gold = trec_files
    env = {**prefect_env, "LABEL_STUDIO_API_KEY": label_studio.token}
    outputs: list[str] = []
    ws = _new_workspace(tmp_path, trec_files, label_studio.url, env)
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

    # Iteration 3 trains the second model: max-iterations (2) stops the loop.
    r = _iterate(ws, env, outputs)
    assert "iteration 3: stopped" in r.stdout, r.stdout + r.stderr
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

    # The token is nowhere: not in the workspace, the command output or Prefect's database.
    token = label_studio.token.encode()
    for root in (ws, Path(prefect_env["PREFECT_HOME"])):
        for path in root.rglob("*"):
            if path.is_file():
                assert token not in path.read_bytes(), f"token found in {path}"
    assert all(label_studio.token not in text for text in outputs)
    ls.close()


def test_label_studio_down_mid_run(tmp_path, trec_files, prefect_env, label_studio):
    """The server goes away during the export: one line, nothing lost; the next run finishes."""
    _, _, gold = trec_files
    proxy = TcpProxy(label_studio.url)
    env = {**prefect_env, "LABEL_STUDIO_API_KEY": label_studio.token}
    outputs: list[str] = []
    try:
        ws = _new_workspace(tmp_path, trec_files, proxy.url, env, retries=1)
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
