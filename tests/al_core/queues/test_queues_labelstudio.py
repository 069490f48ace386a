"""The Label Studio queue against a real Label Studio server on loopback (tests/servers.py)."""

from __future__ import annotations

import json
import uuid

import pytest

from al_core.labels import LabelSet
from al_core.queues import (
    BatchConflictError,
    ExportBatch,
    ExportItem,
    LabelStudioError,
    LabelStudioQueue,
)
from al_core.storage import Location
from tests.labelstudio_helpers import Annotator

LABELS = LabelSet(["pos", "neg", "neutral"])


@pytest.fixture
def annotator(label_studio):
    a = Annotator(label_studio.url, label_studio.token)
    yield a
    a.close()


def make_queue(tmp_path, server, label_set=LABELS, **kwargs) -> LabelStudioQueue:
    return LabelStudioQueue(
        Location(tmp_path / "queue"),
        server.url,
        label_set,
        lambda: server.token,
        title=f"test {uuid.uuid4().hex[:10]}",
        backoff_s=0.05,
        **kwargs,
    )


def batch(n: int, iteration: int, version: str | None, prefix: str = "i") -> ExportBatch:
    return ExportBatch(
        batch_id=f"batch-{iteration:04d}",
        iteration=iteration,
        model_version=version,
        items=[
            ExportItem(
                id=f"{prefix}{k}",
                text=f"text number {k} of batch {iteration}",
                score=1.0 - k / 10,
                rank=k,
                predicted=None if version is None else ["pos" if k % 2 else "neg"],
                confidence=None if version is None else 0.5 + k / 20,
            )
            for k in range(n)
        ],
    )


def test_project_from_label_set_single_and_multi(tmp_path, label_studio, annotator):
    single = make_queue(tmp_path / "a", label_studio)
    multi = make_queue(tmp_path / "b", label_studio, label_set=LabelSet(["x", "y"], True))
    p1 = annotator.project(single.ensure_project())
    p2 = annotator.project(multi.ensure_project())
    assert 'choice="single-radio"' in p1["label_config"]
    assert 'choice="multiple"' in p2["label_config"]
    assert all(f'value="{name}"' in p1["label_config"] for name in LABELS.names)
    # The id is remembered: no second project.
    assert single.ensure_project() == p1["id"]
    assert single.state()["project_id"] == p1["id"]


def test_batches_with_predictions_and_model_version_in_step(tmp_path, label_studio, annotator):
    queue = make_queue(tmp_path, label_studio)
    where = queue.export_batch(batch(3, 1, None, "a"))
    pid = queue.project_id
    assert where == f"{label_studio.url}/projects/{pid}/data"
    queue.export_batch(batch(4, 2, "iter-0002-m", "b"))
    assert annotator.project(pid)["model_version"] == "iter-0002-m"
    # The server keeps the first version when a newer model's batch comes in; we move it.
    queue.export_batch(batch(2, 3, "iter-0003-m", "c"))
    assert annotator.project(pid)["model_version"] == "iter-0003-m"
    tasks = annotator.task_of(pid)
    assert len(tasks) == 9
    b1 = tasks["b1"]
    (pred,) = b1["predictions"]
    assert pred["model_version"] == "iter-0002-m"
    assert pred["score"] == pytest.approx(0.55)  # the model's confidence, not the query score
    assert pred["result"][0]["value"]["choices"] == ["pos"]
    assert b1["meta"]["query_score"] == pytest.approx(0.9)
    assert tasks["a0"]["predictions"] == []

    # Exporting again adds nothing; a changed batch under the same id is refused.
    queue.export_batch(batch(2, 3, "iter-0003-m", "c"))
    assert len(annotator.task_of(pid)) == 9
    with pytest.raises(BatchConflictError):
        queue.export_batch(batch(3, 3, "iter-0003-m", "c"))


def test_a_half_sent_batch_is_completed_not_duplicated(tmp_path, label_studio, annotator):
    queue = make_queue(tmp_path, label_studio)
    b = batch(5, 1, "v1")
    queue.export_batch(b)
    pid = queue.project_id
    # As if the import had landed for two tasks only: delete the other three on the server.
    for item in ("i2", "i3", "i4"):
        task = annotator.task_of(pid)[item]
        annotator.http.delete(f"/api/tasks/{task['id']}/")
    assert len(annotator.task_of(pid)) == 2
    queue.export_batch(b)
    tasks = annotator.task_of(pid)
    assert sorted(tasks) == ["i0", "i1", "i2", "i3", "i4"]


def test_pull_new_and_updated_annotations_with_emails(tmp_path, label_studio, annotator):
    queue = make_queue(tmp_path, label_studio)
    queue.export_batch(batch(4, 1, "v1"))
    pid = queue.project_id
    assert queue.pull_labels() == []  # nothing answered yet
    tasks = annotator.task_of(pid)
    other = annotator.create_user("second.annotator@example.com")
    first = annotator.annotate(tasks["i0"]["id"], ["pos"])
    annotator.annotate(tasks["i0"]["id"], ["neg"], user=other)
    annotator.skip(tasks["i1"]["id"])
    annotator.annotate(tasks["i2"]["id"], ["not-a-label"])

    (delivery,) = queue.pull_labels()
    assert delivery.source == "label-studio" and delivery.path is None
    rows = delivery.rows.sort_values(["id", "annotator"]).reset_index(drop=True)
    assert rows.id.tolist() == ["i0", "i0", "i1", "i2"]
    assert rows.annotator.tolist()[:2] == [
        "admin@example.com",
        "second.annotator@example.com",
    ]
    assert [list(v) for v in rows.labels[:2]] == [["pos"], ["neg"]]
    assert bool(rows.skipped[2]) and "unknown label" in rows.error[3]
    assert rows.external_key[0] == f"ls-annotation:{first['id']}@{first['updated_at']}"
    queue.confirm(delivery)

    # A relabel edits the annotation: same id, new version, pulled again.
    edited = annotator.relabel(first["id"], ["neutral"])
    (again,) = queue.pull_labels()
    keys = set(again.rows.external_key)
    assert f"ls-annotation:{first['id']}@{edited['updated_at']}" in keys
    state = json.loads((tmp_path / "queue" / "labelstudio.json").read_text())
    assert label_studio.token not in json.dumps(state)


def test_withdraw_deletes_only_unanswered_tasks(tmp_path, label_studio, annotator):
    queue = make_queue(tmp_path, label_studio)
    queue.export_batch(batch(3, 1, None))
    pid = queue.project_id
    annotator.annotate(annotator.task_of(pid)["i0"]["id"], ["pos"])
    assert queue.withdraw(["i0", "i1", "unknown"], "stopped") == ["i1"]
    assert sorted(annotator.task_of(pid)) == ["i0", "i2"]
    assert queue.withdraw(["i1"], "stopped") == []  # done before
    # A withdrawn item is not sent again when the batch is re-sent.
    queue.export_batch(batch(3, 1, None))
    assert sorted(annotator.task_of(pid)) == ["i0", "i2"]


def test_bad_token_is_one_clear_line(tmp_path, label_studio):
    queue = LabelStudioQueue(
        Location(tmp_path / "q"),
        label_studio.url,
        LABELS,
        lambda: "0" * 40,
        title="never created",
    )
    with pytest.raises(LabelStudioError) as info:
        queue.ensure_project()
    message = str(info.value)
    assert "refused the API token" in message and "\n" not in message
    assert "0" * 40 not in message


def test_personal_access_token_works(tmp_path, label_studio, annotator):
    """Label Studio 1.23's default token kind: a JWT refresh token, exchanged for access."""
    r = annotator.http.post("/api/token/")
    if r.status_code != 201:  # one per user: a reused development server may have one
        pytest.skip(f"could not create a personal access token: HTTP {r.status_code}")
    pat = r.json()["token"]
    queue = LabelStudioQueue(
        Location(tmp_path / "q"), label_studio.url, LABELS, lambda: pat, title="pat test"
    )
    pid = queue.ensure_project()
    assert annotator.project(pid)["title"] == "pat test"
    assert queue.client._authorization().startswith("Bearer ")
