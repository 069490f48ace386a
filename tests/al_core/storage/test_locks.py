"""One writer at a time: across processes, across threads, re-entrant per path in a thread."""

import subprocess
import sys
import threading
import time

import pytest

from al_core.errors import WorkspaceError
from al_core.storage import Workspace

HOLD = """
import sys, time
from al_core.storage import Workspace
ws = Workspace.open(sys.argv[1])
with ws.lock():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_process_gets_a_clear_error(make_workspace):
    ws = make_workspace()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(ws.path), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceError, match="locked by another alflow process"):
            with Workspace.open(ws.path).lock(timeout=0.2):
                pass
    finally:
        proc.kill()
        proc.wait()
    # The kernel released the dead holder's lock.
    with Workspace.open(ws.path).lock(timeout=5):
        pass


def test_reentrant_per_path_across_workspace_objects(make_workspace):
    """Regression (issue 6, item 8): re-entrancy was per Workspace object, not per path."""
    ws = make_workspace()
    other = Workspace.open(ws.path)
    with ws.lock(), other.lock(timeout=0):
        with other.transaction() as tx:  # a nested writer builds on the outer state
            tx.append("quarantine", [{"quarantine_id": "q1", "kind": "labels"}])
        with ws.transaction() as tx:
            tx.append("quarantine", [{"quarantine_id": "q2", "kind": "labels"}])
    assert ws.snapshot().seq == 2
    assert sorted(ws.query("SELECT quarantine_id FROM quarantine").quarantine_id) == ["q1", "q2"]


def test_another_thread_waits_for_the_holder(make_workspace):
    ws = make_workspace()
    errors, order = [], []
    holding = threading.Event()

    def writer(name, hold):
        try:
            with Workspace.open(ws.path).lock(timeout=10):
                order.append(f"{name}+")
                holding.set()
                time.sleep(hold)
                order.append(f"{name}-")
        except WorkspaceError as exc:  # pragma: no cover - would fail the test below
            errors.append(exc)

    first = threading.Thread(target=writer, args=("a", 0.5))
    first.start()
    assert holding.wait(10)  # on a busy machine opening may take longer than a fixed sleep
    second = threading.Thread(target=writer, args=("b", 0.0))
    second.start()
    first.join()
    second.join()
    assert not errors
    assert order == ["a+", "a-", "b+", "b-"]
    with pytest.raises(WorkspaceError, match="another thread"):
        done = threading.Event()

        def hold():
            with ws.lock():
                done.wait(5)

        t = threading.Thread(target=hold)
        t.start()
        time.sleep(0.1)
        try:
            with Workspace.open(ws.path).lock(timeout=0.1):
                pass
        finally:
            done.set()
            t.join()
