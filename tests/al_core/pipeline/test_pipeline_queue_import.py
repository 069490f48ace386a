"""import_queue: every inbox file is imported and moved; a broken one is rejected with a reason."""

from __future__ import annotations

import json
import os

from al_core.pipeline import import_queue, pipeline_status, queue_for


def current(ws) -> dict[str, list[str]]:
    df = ws.query(
        "SELECT c.id, c.labels FROM current_labels c JOIN pool p USING (id) WHERE p.role = 'pool'"
    )
    return {i: list(ls) for i, ls in zip(df.id, df.labels, strict=True)}


def drop(queue, name: str, content: str | bytes, order: int) -> None:
    """Put a file in the inbox with a distinct mtime, so pulls come in ``order``."""
    path = queue.inbox / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    os.utime(path, ns=(1_700_000_000_000_000_000 + order, 1_700_000_000_000_000_000 + order))


def test_inbox_files_are_imported_and_moved(pool_ws):
    queue = queue_for(pool_ws)
    drop(queue, "a.csv", "id,label\np00,sport\np01,tech\n", 1)
    drop(queue, "b.jsonl", json.dumps({"id": "p01", "label": "food"}) + "\n", 2)
    reports = import_queue(pool_ws, queue)
    assert [r["source"] for r in reports] == [str(queue.inbox / n) for n in ("a.csv", "b.jsonl")]
    assert [(r["new"], r["changed"]) for r in reports] == [(2, 0), (0, 1)]
    assert sorted(p.name for p in queue.imported_dir.iterdir()) == ["a.csv", "b.jsonl"]
    assert queue.pull_label_files() == []
    assert current(pool_ws) == {"p00": ["sport"], "p01": ["food"]}  # applied in order
    state = pipeline_status(pool_ws)["queue"]
    assert state["inbox_waiting"] == 0 and state["imported"] == 2

    # An empty inbox imports nothing; the same content dropped again is recognised.
    assert import_queue(pool_ws, queue) == []
    drop(queue, "a-again.csv", "id,label\np00,sport\np01,tech\n", 3)
    (again,) = import_queue(pool_ws, queue)
    assert again["file_seen_before"] and again["new"] == 0
    assert (queue.imported_dir / "a-again.csv").is_file()


def test_a_broken_file_is_rejected_with_its_reason_and_the_others_import(pool_ws):
    queue = queue_for(pool_ws)
    drop(queue, "good-1.csv", "id,label\np00,sport\n", 1)
    drop(queue, "broken.json", '[{"data": {"id": "p01"}, "annotations": [', 2)
    drop(queue, "latin1.csv", "id,label\np02,caf\xe9\n".encode("latin-1"), 3)
    drop(queue, "good-2.csv", "id,label\np03,food\nzzz,tech\n", 4)
    reports = import_queue(pool_ws, queue)
    assert [r.get("error") is None for r in reports] == [True, False, False, True]
    assert "invalid JSON" in reports[1]["error"] and "not UTF-8" in reports[2]["error"]
    assert reports[3]["rejected"] == 1  # a bad row does not reject the file

    assert sorted(p.name for p in queue.imported_dir.iterdir()) == ["good-1.csv", "good-2.csv"]
    rejected = queue.inbox / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "broken.json",
        "broken.json.reason.txt",
        "latin1.csv",
        "latin1.csv.reason.txt",
    ]
    reason = (rejected / "broken.json.reason.txt").read_text()
    assert "invalid JSON" in reason and "broken.json" in reason
    assert "not UTF-8" in (rejected / "latin1.csv.reason.txt").read_text()
    assert queue.pull_label_files() == []  # nothing is retried on the next run
    assert current(pool_ws) == {"p00": ["sport"], "p03": ["food"]}
    assert pool_ws.scalar("SELECT count(*) FROM ingest_log WHERE kind = 'labels'") == 2


def test_a_rejected_name_already_taken_gets_a_suffix(pool_ws):
    queue = queue_for(pool_ws)
    drop(queue, "bad.json", "{not json", 1)
    import_queue(pool_ws, queue)
    drop(queue, "bad.json", "[oops", 2)
    (report,) = import_queue(pool_ws, queue)
    assert "error" in report
    names = sorted(p.name for p in (queue.inbox / "rejected").iterdir())
    assert names == ["bad-1.json", "bad-1.json.reason.txt", "bad.json", "bad.json.reason.txt"]
    assert (queue.inbox / "rejected" / "bad-1.json").read_text() == "[oops"
