"""Production steps on the file queue (no server): confidences, withdrawals, disagreement review,
the queue config, and what the Prefect UI is shown (built from the tables, no Prefect)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_pipeline_steps import answer, run_initial, run_train, unlabelled_ids

from al_core.errors import ConfigError
from al_core.pipeline import (
    disagreement_report,
    import_label_file,
    items_to_withdraw,
    load_model,
    queue_for,
    resolve_settings,
    send_review_batch,
    withdraw_items,
    workspace_key,
)
from al_core.pipeline.state import items_by_id
from al_core.queues import FileQueue, LabelStudioQueue
from al_core.storage import QueueSettings, Workspace, WorkspaceConfig
from flows.publish import iteration_markdown, label_budget, learning_curve


@pytest.fixture
def settings(pool_ws):
    return resolve_settings(pool_ws)


def test_exported_prediction_score_is_the_models_confidence(pool_ws, settings, write_csv, truth):
    ws = pool_ws
    plan, batch = run_initial(ws, settings)
    answer(ws, write_csv, truth, batch)
    out = run_train(ws, settings)
    tasks = json.loads((ws.path / "queue" / "outbox" / "batch-0002.json").read_text())
    selection = json.loads(out["sel"].read_text())
    model = load_model(out["model"])
    items = items_by_id(ws, [t["data"]["id"] for t in tasks])
    proba = model.classifier.predict_proba(model.features(ws, items))
    names = list(model.label_set.names)
    for task, row, sel in zip(tasks, proba, selection["items"], strict=True):
        (pred,) = task["predictions"]
        label = pred["result"][0]["value"]["choices"][0]
        assert pred["score"] == pytest.approx(row[names.index(label)])
        assert label == names[int(np.argmax(row))]
        assert task["meta"]["query_score"] == pytest.approx(sel["score"])
        assert pred["score"] == sel["confidence"]  # taken from the scoring, not recomputed


def test_withdraw_when_stopped_and_when_labelled_elsewhere(pool_ws, settings, write_csv, truth):
    ws = pool_ws
    plan, batch = run_initial(ws, settings)
    queue = queue_for(ws)
    assert items_to_withdraw(ws, queue.source) == {}
    # One waiting item gets its label from an ingest-style source (not the queue).
    from al_core.pipeline import import_label_rows
    from al_core.queues import label_rows
    from al_core.queues.label_files import LabelRow

    row = LabelRow(row=1, id=batch[0], labels=[truth(batch[0])], annotator="elsewhere")
    import_label_rows(ws, label_rows([row]), origin="test", source="import")
    assert items_to_withdraw(ws, queue.source) == {
        batch[0]: "labelled outside this annotation queue"
    }
    answer(ws, write_csv, truth, batch[1:3])
    settings.stopping = ["label-budget(budget=3)"]  # 3 labels now: the first model stops
    out = run_train(ws, settings)
    assert out["row"]["status"] == "stopped"
    done = withdraw_items(ws, queue)
    assert sorted(done["the active-learning loop stopped"]) == sorted(batch[3:])
    listed = json.loads((ws.path / "queue" / "outbox" / "withdrawn.json").read_text())
    assert set(listed) == {batch[0], *batch[3:]}
    assert withdraw_items(ws, queue) == {}  # nothing twice
    assert "withdrawn" not in queue.state()["outbox_batches"]


def test_disagreements_and_a_review_batch(pool_ws, settings, write_csv, truth):
    ws = pool_ws
    ids = unlabelled_ids(ws, 4)
    t = [truth(i) for i in ids]
    other = next(x for x in ("sport", "tech", "food") if x not in (t[0], t[1]))
    rows = [(ids[0], t[0], "ann1"), (ids[0], other, "ann2"), (ids[1], t[1], "ann1")]
    rows += [(ids[1], t[1], "ann2"), (ids[2], t[2], "ann1"), (ids[3], t[3], "ann3")]
    import_label_file(ws, write_csv("two-annotators.csv", rows))
    report = disagreement_report(ws)
    assert [it["id"] for it in report["items"]] == [ids[0]]
    assert {v["annotator"] for v in report["items"][0]["votes"]} == {"ann1", "ann2"}
    assert report["items_shared"] == 2 and report["items_disagreed"] == 1
    # Two items, two ratings each: (x, y) and (z, z) with x != y != z.
    # Coincidences o_xy = o_yx = 1, o_zz = 2; n = 4, n_x = n_y = 1, n_z = 2;
    # alpha = 1 - 3 * 2 / (16 - 6) = 0.4.
    assert report["krippendorff_alpha"] == pytest.approx(0.4)
    by = {a["annotator"]: a for a in report["annotators"]}
    assert by["ann1"]["items"] == 3 and by["ann1"]["disagreements"] == 1
    assert by["ann3"]["shared_items"] == 0

    queue = queue_for(ws)
    sent = send_review_batch(ws, queue, report)
    assert sent["batch"] == "review-0001" and sent["items"] == 1
    (task,) = queue.read_batch("review-0001")
    assert task["data"]["id"] == ids[0]
    assert task["data"]["alflow_note"] == f"ann1: {t[0]}; ann2: {other}"
    again = send_review_batch(ws, queue, disagreement_report(ws))
    assert again["batch"] is None and again["sent_before"] == 1
    # The reviewer's answer is a newer label: under "latest" it is the current label.
    import_label_file(ws, write_csv("review.csv", [(ids[0], t[0], "reviewer")]))
    current = ws.query("SELECT labels FROM current_labels WHERE id = ?", [ids[0]]).labels[0]
    assert list(current) == [t[0]]


def test_queue_config_old_files_load_and_bad_settings_fail(tmp_path):
    old = {"labels": ["a", "b"], "version": 1}
    cfg = WorkspaceConfig.from_dict(old)
    assert cfg.queue == QueueSettings() and cfg.queue.kind == "file"
    with pytest.raises(ConfigError, match="unknown queue keys"):
        WorkspaceConfig.from_dict({**old, "queue": {"token": "secret"}})
    with pytest.raises(ConfigError, match="http"):
        QueueSettings(kind="label-studio", url="localhost:8080")
    with pytest.raises(ConfigError, match="queue kind"):
        QueueSettings(kind="argilla")
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(labels=["a", "b"]))
    assert isinstance(queue_for(ws), FileQueue)
    ws.config.queue = QueueSettings(kind="label-studio", url="http://127.0.0.1:9")
    ws.save_config()
    queue = queue_for(Workspace.open(tmp_path / "ws"))
    assert isinstance(queue, LabelStudioQueue)
    assert queue.title == f"alflow: {workspace_key(ws.uri)}"
    assert queue.state()["project_id"] is None  # no request made


def test_token_comes_from_the_environment_or_a_secret_lookup(tmp_path, monkeypatch):
    from al_core.queues import LabelStudioError, token_source_for

    monkeypatch.delenv("ALFLOW_TEST_TOKEN", raising=False)
    with pytest.raises(LabelStudioError, match=r"\$ALFLOW_TEST_TOKEN"):
        token_source_for("ALFLOW_TEST_TOKEN", None)()
    with pytest.raises(LabelStudioError, match="only be read through Prefect"):
        token_source_for("ALFLOW_TEST_TOKEN", "ls-token")()
    assert token_source_for("ALFLOW_TEST_TOKEN", "ls-token", {"ls-token": "s3cret"}.get)() == (
        "s3cret"
    )
    monkeypatch.setenv("ALFLOW_TEST_TOKEN", " from-env ")
    assert token_source_for("ALFLOW_TEST_TOKEN", "ls-token")() == "from-env"


def test_workspace_key_is_artifact_safe_and_unique_per_location():
    a = workspace_key("/data/My Project_1")
    b = workspace_key("/other/My Project_1")
    assert a.startswith("my-project-1-") and a != b
    assert all(c.islower() or c.isdigit() or c == "-" for c in a)
    assert workspace_key("s3://bucket/ws").startswith("ws-")


def test_ui_figures_survive_a_skipped_run(pool_ws, settings, write_csv, truth):
    ws = pool_ws
    plan, batch = run_initial(ws, settings)
    skipped = {"iteration": 2, "status": "skipped", "message": "only 0 new labels"}
    assert "No model trained yet." in iteration_markdown(ws, skipped)
    answer(ws, write_csv, truth, batch)
    run_train(ws, settings)
    curve = learning_curve(ws)
    assert [(r["iteration"], r["labels"]) for r in curve] == [(2, 5)]
    md = iteration_markdown(ws, {**skipped, "iteration": 3})
    assert "iteration 3 skipped" in md and "## Last trained iteration: 2 (completed)" in md
    assert "| max-iterations |" in md and "### Class balance" in md
    labelled, budget = label_budget(ws, settings)
    assert labelled == 5 and budget == min(5 * (settings.max_iterations + 1), 60)
