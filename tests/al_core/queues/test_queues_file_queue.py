"""The folder-based annotation queue."""

import json
import os

import pytest

from al_core.labels import LabelSet
from al_core.queues import (
    AnnotationQueue,
    BatchConflictError,
    ExportBatch,
    ExportItem,
    FileQueue,
    read_label_file,
)


def _batch(batch_id="it-0001", text="Great phone"):
    return ExportBatch(
        batch_id=batch_id,
        iteration=1,
        model_version=None,
        items=[ExportItem("007", text, 0.9, 1), ExportItem("8", "Ünïcode ✓", None, 2)],
    )


def _touch(path, content="id,label\n1,pos\n", mtime=None):
    path.write_text(content, encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def test_is_an_annotation_queue(tmp_path):
    queue = FileQueue(tmp_path / "q")
    assert isinstance(queue, AnnotationQueue)
    assert (tmp_path / "q" / "outbox").is_dir() and (tmp_path / "q" / "inbox").is_dir()
    assert queue.state() == {
        "queue": "file",
        "root": str(tmp_path / "q"),
        "outbox_batches": [],
        "inbox_waiting": 0,
        "imported": 0,
    }


def test_export_writes_pretty_utf8_task_list(tmp_path):
    queue = FileQueue(tmp_path)
    where = queue.export_batch(_batch())
    path = tmp_path / "outbox" / "it-0001.json"
    assert where == str(path)
    raw = path.read_text(encoding="utf-8")
    assert "Ünïcode ✓" in raw and raw.startswith("[\n  {")
    tasks = json.loads(raw)
    assert [t["data"]["id"] for t in tasks] == ["007", "8"]
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["it-0001.json"]  # no temp files


def test_export_same_content_is_a_no_op(tmp_path):
    queue = FileQueue(tmp_path)
    path = queue.export_batch(_batch())
    os.utime(path, ns=(1_000, 1_000))
    assert queue.export_batch(_batch()) == path
    assert os.stat(path).st_mtime_ns == 1_000  # not rewritten


def test_export_different_content_raises(tmp_path):
    queue = FileQueue(tmp_path)
    path = queue.export_batch(_batch())
    before = open(path, "rb").read()
    with pytest.raises(BatchConflictError, match="'it-0001' was already exported"):
        queue.export_batch(_batch(text="changed"))
    assert open(path, "rb").read() == before


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "", "a b"])
def test_export_rejects_unsafe_batch_ids(tmp_path, bad):
    queue = FileQueue(tmp_path)
    with pytest.raises(ValueError):
        queue.export_batch(_batch(batch_id=bad))


def test_pull_orders_by_mtime_then_name_and_ignores_noise(tmp_path):
    queue = FileQueue(tmp_path)
    inbox = tmp_path / "inbox"
    _touch(inbox / "b.csv", mtime=2_000_000_000)
    _touch(inbox / "a.csv", mtime=2_000_000_000)
    _touch(inbox / "z.jsonl", '{"id": "1", "label": "pos"}\n', mtime=1_000_000_000)
    _touch(inbox / "notes.txt", mtime=3_000_000_000)  # returned: reading it reports the problem
    for noise in [".hidden.csv", ".tmp-c.csv-1234.partial", "d.csv.part", "~$e.csv"]:
        _touch(inbox / noise)
    (inbox / "sub").mkdir()
    _touch(inbox / "sub" / "f.csv")
    names = [p.name for p in queue.pull_label_files()]
    assert names == ["z.jsonl", "a.csv", "b.csv", "notes.txt"]
    assert queue.state()["inbox_waiting"] == 4


def test_mark_imported_moves_and_never_overwrites(tmp_path):
    queue = FileQueue(tmp_path)
    inbox = tmp_path / "inbox"
    first = queue.mark_imported(_touch(inbox / "labels.csv", "id,label\n1,pos\n"))
    assert first == inbox / "imported" / "labels.csv"
    second = queue.mark_imported(_touch(inbox / "labels.csv", "id,label\n2,neg\n"))
    third = queue.mark_imported(_touch(inbox / "labels.csv", "id,label\n3,neg\n"))
    assert second.name == "labels-1.csv" and third.name == "labels-2.csv"
    assert first.read_text() == "id,label\n1,pos\n" and second.read_text() == "id,label\n2,neg\n"
    assert queue.pull_label_files() == []
    assert queue.state()["imported"] == 3


def test_mark_imported_rejects_files_outside_inbox(tmp_path):
    queue = FileQueue(tmp_path / "q")
    stray = _touch(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="not a file in the inbox"):
        queue.mark_imported(stray)
    assert stray.exists()


def test_full_cycle_with_label_config(tmp_path):
    labels = LabelSet(["pos", "neg"])
    queue = FileQueue(tmp_path)
    queue.export_batch(_batch())
    config = queue.write_label_studio_config(labels)
    assert config == tmp_path / "label_config.xml"
    assert '<Choice value="neg"/>' in config.read_text(encoding="utf-8")
    # The annotator labels the exported tasks in Label Studio and drops the export in the inbox.
    tasks = json.loads((tmp_path / "outbox" / "it-0001.json").read_text(encoding="utf-8"))
    for n, task in enumerate(tasks):
        value = {"choices": ["pos" if n == 0 else "neg"]}
        task["annotations"] = [
            {
                "id": n + 1,
                "completed_by": 1,
                "was_cancelled": False,
                "result": [
                    {"from_name": "label", "to_name": "text", "type": "choices", "value": value}
                ],
            }
        ]
    _touch(tmp_path / "inbox" / "project-1-at-2025.json", json.dumps(tasks))
    (path,) = queue.pull_label_files()
    df = read_label_file(path, labels)
    assert df[["id", "labels"]].values.tolist() == [["007", ["pos"]], ["8", ["neg"]]]
    queue.mark_imported(path)
    state = queue.state()
    assert state["outbox_batches"] == ["it-0001"]
    assert (state["inbox_waiting"], state["imported"]) == (0, 1)
