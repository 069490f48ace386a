"""A compaction killed part-way leaves the workspace readable, whole, and repairable.

A child process appends label rows in many small transactions, then compacts two tables and
is killed (``SIGKILL``, via ``ALFLOW_CRASHPOINT``) either after the first table's compaction
commit (``compact-part``) or after every table's but before the marker (``compacted``).
Readers must see exactly the rows of the committed transactions; the next writer repairs the
leftovers and a later compaction works.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from al_core.storage import Workspace, WorkspaceConfig, utcnow

CHILD = textwrap.dedent(
    """
    import sys
    from al_core.storage import Workspace
    Workspace.open(sys.argv[1]).compact(["ingest_log", "label_events"])
    """
)


def _fill(ws: Workspace, n: int) -> None:
    now = utcnow()
    for k in range(n):
        with ws.transaction(kind="labels") as tx:
            tx.append(
                "label_events",
                [{"event_id": f"e{k}", "id": f"i{k}", "labels": ["a"], "created_at": now}],
            )
            tx.append("ingest_log", [{"batch_id": f"b{k}", "kind": "labels", "created_at": now}])


@pytest.mark.parametrize("point", ["compact-part", "compacted"])
def test_killed_compaction_leaves_a_consistent_workspace(tmp_path, point):
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(labels=["a", "b"]))
    _fill(ws, 12)
    files_before = len(ws._latest_handle("label_events").file_uris())
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(ws.path)],
        env={**os.environ, "ALFLOW_CRASHPOINT": point},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -9, proc.stderr  # killed at the crash point

    again = Workspace.open(ws.path)  # opening repairs a local workspace when idle
    assert again.scalar("SELECT count(*) FROM label_events") == 12
    assert again.scalar("SELECT count(*) FROM ingest_log") == 12
    assert sorted(again.query("SELECT id FROM label_events").id) == sorted(
        f"i{k}" for k in range(12)
    )
    assert again.recoveries and again.recoveries[0].kind == "compact"
    # Rolled forward (both tables were compacted) or back (only one was): never half.
    if point == "compacted":
        assert again.recoveries[0].action == "rolled forward"
        assert len(again._latest_handle("label_events").file_uris()) == 1
    else:
        assert again.recoveries[0].action == "rolled back"
        assert len(again._latest_handle("label_events").file_uris()) == files_before
    _fill(again, 1)
    assert again.compact(["label_events"])["label_events"] >= 2  # files merged
    assert again.scalar("SELECT count(*) FROM label_events") == 13
    assert len(again._latest_handle("label_events").file_uris()) == 1
