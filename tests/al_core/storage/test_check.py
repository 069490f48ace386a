"""Damaged tables: a one-line error naming the file, `check` explaining, `--repair` fixing."""

import pytest

from al_core.errors import WorkspaceError
from al_core.storage import Workspace, delta, utcnow
from al_core.storage.check import check_workspace, repair_workspace


def _labelled(ws, n_files=2):
    with ws.transaction() as tx:
        tx.append(
            "pool",
            [
                dict(
                    id=str(i), text=f"t{i}", content_hash=f"h{i}", role="pool", ingested_at=utcnow()
                )
                for i in range(6)
            ],
        )
    for k in range(n_files):
        with ws.transaction() as tx:
            tx.append(
                "label_events",
                [
                    dict(
                        event_id=f"e{k}{i}",
                        id=str(3 * k + i),
                        labels=["pos"],
                        skipped=False,
                        annotator="a",
                        source="queue",
                        external_key=f"k{k}{i}",
                        created_at=utcnow(),
                    )
                    for i in range(3)
                ],
            )


def _label_files(ws):
    return sorted(delta.open_table(ws.table_uri("label_events")).file_uris())


@pytest.mark.parametrize("damage", ["deleted", "garbage", "truncated"])
def test_a_damaged_file_is_named_checked_and_repaired(make_workspace, damage):
    ws = make_workspace()
    _labelled(ws)
    victim = _label_files(ws)[0]
    if damage == "deleted":
        import os

        os.unlink(victim)
    elif damage == "garbage":
        with open(victim, "wb") as fh:
            fh.write(b"this is not parquet at all")
    else:
        data = open(victim, "rb").read()
        with open(victim, "wb") as fh:
            fh.write(data[: len(data) // 2])
    ws = Workspace.open(ws.path)

    # Reading says which file and what to do, in one line (no silent loss, no traceback).
    with pytest.raises(WorkspaceError) as info:
        ws.scalar("SELECT count(*) FROM current_labels")
    message = str(info.value)
    assert "\n" not in message and "label_events" in message and "alflow check" in message
    assert victim.rsplit("/", 1)[1] in message

    report = check_workspace(ws)
    assert not report.ok
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert problem.table == "label_events" and "(3 rows)" in problem.message
    assert ("missing" if damage == "deleted" else "unreadable") in problem.message

    actions = repair_workspace(ws)
    assert len(actions) == 1 and "3 rows lost" in actions[0]
    assert check_workspace(ws).ok
    assert ws.scalar("SELECT count(*) FROM current_labels") == 3  # the other file's labels
    assert ws.history()[-1]["kind"] == "repair"
    if damage != "deleted":  # kept aside for forensics
        import os

        assert os.path.exists(victim + ".corrupt")


def test_check_of_a_healthy_workspace(make_workspace):
    ws = make_workspace()
    _labelled(ws)
    report = check_workspace(ws, deep=True)
    assert report.ok and report.problems == []
    assert report.tables["label_events"]["rows"] == 6
    assert report.tables["pool"]["files"] == 1
    assert report.to_dict()["ok"] is True


def test_check_reports_an_interrupted_transaction(make_workspace):
    ws = make_workspace()
    snap = ws.snapshot()
    meta = delta.commit_metadata("tx", snap.seq + 1, "ingest", ["ingest_log", "pool"], {})
    from al_core.storage.workspace import to_table

    delta.append(
        delta.open_table(ws.table_uri("pool")),
        to_table("pool", [dict(id="1", text="t", content_hash="h", role="pool")]),
        meta,
    )
    report = check_workspace(ws)  # checking changes nothing
    [problem] = report.problems
    assert problem.severity == "warning" and "interrupted" in problem.message
    assert "ingest" in problem.message
    assert repair_workspace(ws)[0].startswith("rolled back")
    assert check_workspace(ws).problems == []
