"""One writer at a time per workspace, across threads, processes and machines.

- :class:`FileLock` (local workspaces): a ``flock`` on a file, plus a ``threading.RLock`` kept per
  resolved path in a process-wide registry, so the lock excludes other processes, other threads
  (Prefect runs tasks in threads) and is re-entrant for the thread that holds it, however many
  :class:`~al_core.storage.Workspace` objects point at the same folder. The kernel drops a
  ``flock`` when its process dies, so a crash never leaves a stale lock.
- :class:`LeaseLock` (object stores, which have no ``flock``): a small Delta table whose log is
  the lock. Acquiring appends a ``held`` commit at exactly the next version with no commit
  retries, so of two writers racing for the same version one fails (Delta's put-if-absent
  commit). A lease expires after ``lease_seconds``, so a crashed holder blocks others for at
  most that long; :meth:`LeaseLock.still_held` lets a writer check its lease before it commits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from al_core.errors import WorkspaceError

_REGISTRY_GUARD = threading.Lock()
_THREAD_LOCKS: dict[str, threading.RLock] = {}
_FILE_HOLDS: dict[str, tuple[object, int]] = {}  # key -> (open file, nesting depth)
_OWNERS: dict[str, int] = {}  # key -> thread id of the holder


def held_by_current_thread(key: str) -> bool:
    return _OWNERS.get(key) == threading.get_ident()


def _thread_lock(key: str) -> threading.RLock:
    with _REGISTRY_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.RLock())


def _busy(what: str, where: str) -> WorkspaceError:
    return WorkspaceError(f"workspace {where} is locked by {what}; try again when it has finished")


class FileLock:
    """An exclusive lock on a local file; re-entrant per thread within a process."""

    def __init__(self, path: Path, what: str = "another alflow process") -> None:
        self.path = Path(path)
        self.key = str(self.path.resolve())
        self.what = what

    @contextlib.contextmanager
    def hold(self, timeout: float) -> Iterator[bool]:
        """Hold the lock; yields True when this call took it (False: re-entered)."""
        rlock = _thread_lock(self.key)
        deadline = time.monotonic() + timeout
        if not rlock.acquire(timeout=max(timeout, 0.0)):
            raise _busy("another thread of this process", str(self.path.parent))
        try:
            first = self._enter_file(deadline)
            _OWNERS[self.key] = threading.get_ident()
            try:
                yield first
            finally:
                if first:
                    _OWNERS.pop(self.key, None)
                self._exit_file()
        finally:
            rlock.release()

    def held_by_me(self) -> bool:
        return held_by_current_thread(self.key)

    def _enter_file(self, deadline: float) -> bool:
        with _REGISTRY_GUARD:
            held = _FILE_HOLDS.get(self.key)
            if held is not None:
                _FILE_HOLDS[self.key] = (held[0], held[1] + 1)
                return False
        fh = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise _busy(self.what, str(self.path.parent)) from None
                time.sleep(0.05)
        with _REGISTRY_GUARD:
            _FILE_HOLDS[self.key] = (fh, 1)
        return True

    def _exit_file(self) -> None:
        with _REGISTRY_GUARD:
            fh, depth = _FILE_HOLDS[self.key]
            if depth > 1:
                _FILE_HOLDS[self.key] = (fh, depth - 1)
                return
            del _FILE_HOLDS[self.key]
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()

    def try_held_elsewhere(self) -> bool:
        """True when another process holds the lock right now (a non-blocking probe)."""
        with _REGISTRY_GUARD:
            if self.key in _FILE_HOLDS:
                return False
        if not self.path.exists():
            return False
        with open(self.path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
        return False


class LeaseLock:
    """A writer lease stored as a Delta table at ``uri`` (for object-store workspaces)."""

    def __init__(self, location: Any, key: str, lease_seconds: float | None = None) -> None:
        self.location = location
        self.table_key = key
        self.uri = location.uri_of(key)
        self.key = self.uri
        self.lease_seconds = float(lease_seconds or os.environ.get("ALFLOW_LEASE_SECONDS", "600"))
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._version: int | None = None
        self._depth = 0

    def _table(self):
        import pyarrow as pa
        from deltalake import DeltaTable

        try:
            return DeltaTable(self.uri)
        except Exception:  # noqa: BLE001 - first use: create the table
            schema = pa.schema([("holder", pa.string()), ("state", pa.string())])
            try:
                DeltaTable.create(self.uri, schema=schema)
            except Exception:  # noqa: BLE001 - created concurrently by another writer
                pass
            return DeltaTable(self.uri)

    def _latest(self, dt) -> dict:
        from al_core.storage.delta import commit_info

        version = dt.version()
        entry = commit_info(self.location, self.table_key, version) if version > 0 else {}
        return {
            "holder": entry.get("alflow.holder"),
            "state": entry.get("alflow.state", "released"),
            "expires": float(entry.get("alflow.expires", 0)),
        }

    def _commit(self, dt, state: str, expires: float) -> int:
        import pyarrow as pa
        from deltalake import CommitProperties, write_deltalake

        row = pa.table({"holder": [self.holder], "state": [state]})
        props = CommitProperties(
            custom_metadata={
                "alflow.holder": self.holder,
                "alflow.state": state,
                "alflow.expires": str(expires),
            },
            max_commit_retries=0,
        )
        write_deltalake(dt, row, mode="append", commit_properties=props)
        return dt.version()

    @contextlib.contextmanager
    def hold(self, timeout: float) -> Iterator[bool]:
        rlock = _thread_lock(self.key)
        if not rlock.acquire(timeout=max(timeout, 0.0)):
            raise _busy("another thread of this process", self.uri)
        try:
            if self._depth:
                self._depth += 1
                try:
                    yield False
                finally:
                    self._depth -= 1
                return
            self._acquire(timeout)
            self._depth = 1
            _OWNERS[self.key] = threading.get_ident()
            try:
                yield True
            finally:
                _OWNERS.pop(self.key, None)
                self._depth = 0
                self._release()
        finally:
            rlock.release()

    def held_by_me(self) -> bool:
        return held_by_current_thread(self.key)

    def _acquire(self, timeout: float) -> None:
        from deltalake.exceptions import CommitFailedError

        deadline = time.monotonic() + timeout
        while True:
            dt = self._table()
            latest = self._latest(dt)
            if latest["state"] != "held" or latest["expires"] < time.time():
                try:
                    self._version = self._commit(dt, "held", time.time() + self.lease_seconds)
                    return
                except CommitFailedError:
                    pass  # another writer took the next version first
            if time.monotonic() >= deadline:
                raise _busy(f"writer {latest['holder']}", self.uri.rsplit("/_alflow", 1)[0])
            time.sleep(0.2)

    def still_held(self) -> bool:
        """True while no other writer has taken the lease since we acquired it."""
        if self._version is None:
            return False
        dt = self._table()
        return dt.version() == self._version

    def _release(self) -> None:
        from deltalake.exceptions import CommitFailedError

        dt = self._table()
        if dt.version() == self._version:
            with contextlib.suppress(CommitFailedError):
                self._commit(dt, "released", 0.0)
        self._version = None
