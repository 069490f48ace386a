"""Two pytest-xdist workers (``make test``), with every test that needs a real server on one.

Each worker collects every test, so starting the servers at collection would start one Label
Studio per worker (a minute of CPU and 400 MB each). Instead the workers start them on first
use, and the controller schedules all tests that need one as a single unit of work, on one
worker. xdist's own ``--dist loadgroup`` cannot do this under pytest 9 (it renames the items'
``_nodeid``, which pytest 9 no longer reports), so this is a small scheduler of its own: the
workers write the ids of the server tests to a file named in the environment, and the
controller's scheduler reads it when it splits the collection into units.

The other tests are units of one, in collection order, which puts the slow tests first (see
``conftest.py``): a run then does not end with one worker in a long test while the other idles.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

GROUP_FILE_ENV = "ALFLOW_TEST_SERVER_GROUP_FILE"
GROUP = "servers"


def is_worker() -> bool:
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def is_controller(config) -> bool:
    return not is_worker() and getattr(config.option, "dist", "no") != "no"


def announce_group_file() -> None:
    """Controller, before the workers start: a file for the workers to name the server tests."""
    fd, path = tempfile.mkstemp(prefix="alflow-xdist-", suffix=".json")
    os.close(fd)
    os.environ[GROUP_FILE_ENV] = path


def remove_group_file() -> None:
    path = os.environ.pop(GROUP_FILE_ENV, None)
    if path:
        Path(path).unlink(missing_ok=True)


def write_group(nodeids: list[str]) -> None:
    """Worker, after collection: the ids of the tests that need a server (all workers agree)."""
    path = os.environ.get(GROUP_FILE_ENV)
    if not path:
        return
    tmp = f"{path}.{os.environ.get('PYTEST_XDIST_WORKER', 'w')}"
    Path(tmp).write_text(json.dumps(nodeids))
    os.replace(tmp, path)


def make_scheduler(config, log):
    """A ``LoadScopeScheduling`` whose only unit of more than one test is the server tests."""
    from xdist.scheduler import LoadScopeScheduling

    class ServerGroupScheduling(LoadScopeScheduling):
        _group: frozenset[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._group is None:  # read once, when the collection is complete
                path = os.environ.get(GROUP_FILE_ENV, "")
                try:
                    self._group = frozenset(json.loads(Path(path).read_text() or "[]"))
                except (OSError, ValueError):
                    self._group = frozenset()  # each test alone: correct, only slower
            return GROUP if nodeid in self._group else nodeid

    return ServerGroupScheduling(config, log)
