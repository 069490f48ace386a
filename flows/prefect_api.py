"""The Prefect API a command's flows report to: the configured server, or a temporary one.

Without ``PREFECT_API_URL`` Prefect starts a temporary server when the first flow runs: it
imports its whole server package into the command's own process (about 5 s of CPU here, which
on two cores competes with the command's imports) and only then starts the server process,
which imports the same again. ``alflow iterate`` and ``alflow simulate`` instead start that
server process themselves as their first step (uvicorn on Prefect's app factory, with the
settings Prefect gives its own temporary server), without importing Prefect, so its start-up
overlaps the command's imports and checks; :func:`prefect_api` then waits for it to answer and
points the command's flows at it. One server per process (the demo runs several commands in
one), stopped when the process exits. With ``PREFECT_API_URL`` set nothing is started.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

from al_core.errors import AlflowError

# Prefect's own setting for how long its temporary server may take to answer; alflow's CLI
# raises its default (flows/cli.py) because a first start migrates a new database.
STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
# uvicorn's exit code when it cannot bind its port or the app's start-up fails.
_BIND_FAILED = 3
_server: TemporaryServer | None = None


class TemporaryServer:
    """A Prefect API server in a child process on a free loopback port, for this process."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()  # its output, quoted if it fails to start
        self.process = self._launch()

    def _launch(self) -> subprocess.Popen:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        spec = find_spec("prefect")  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise AlflowError("Prefect is not installed in this environment")
        app_dir = Path(next(iter(spec.submodule_search_locations))).parent
        env = {
            **os.environ,
            # What Prefect sets for its own temporary server: no UI, the services an
            # ephemeral server runs, and settings final as given.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(app_dir),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout: float) -> None:
        """Block until the server answers its health check; a one-line error if it exits or
        does not answer within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        relaunches = 0
        while True:
            code = self.process.poll()
            if code == _BIND_FAILED and relaunches < 2:
                # Most likely another process took the port first: try a new one. (uvicorn
                # also exits with 3 when the app fails to start, hence the bound.)
                relaunches += 1
                self.process = self._launch()
            elif code is not None:
                raise AlflowError(
                    f"Prefect's temporary server exited with code {code}: {self._log_tail()}"
                )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=5) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise AlflowError(
                    f"Prefect's temporary server did not answer within {timeout:.0f} s (raise "
                    f"{STARTUP_TIMEOUT_ENV}, or start `prefect server start` and set "
                    "PREFECT_API_URL)"
                )
            time.sleep(0.1)

    def _log_tail(self, lines: int = 5) -> str:
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def stop(self) -> None:
        """Terminate the server and wait for it (a second server on the same database must
        not start while this one still writes)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_temporary_server() -> TemporaryServer | None:
    """Start this process's temporary server now, unless ``PREFECT_API_URL`` is set in the
    environment or one is running already; returns it (None: none started). Does not wait.

    Only the environment is looked at, as reading Prefect's settings means importing Prefect
    (2 s): a server named elsewhere (a Prefect profile) is found by :func:`prefect_api`, which
    then stops this one again.
    """
    global _server
    if os.environ.get("PREFECT_API_URL"):
        return None
    if _server is None or _server.process.poll() is not None:
        _server = TemporaryServer()
        atexit.register(_server.stop)
    return _server


def stop_temporary_server() -> None:
    """Stop this process's temporary server, if one was started."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None


@contextlib.contextmanager
def prefect_api() -> Iterator[str | None]:
    """Run the block's flows against this process's Prefect API, and yield its URL.

    The API configured in Prefect's settings (``PREFECT_API_URL`` from the environment or a
    profile) wins, yielding None; else the temporary server, started now if
    :func:`start_temporary_server` was not called yet, and awaited. With Prefect's temporary
    server disabled (``PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false``) and no URL, nothing is
    started and the flow fails with Prefect's own message.
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        temporary_settings,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        stop_temporary_server()
        yield None
        return
    server = start_temporary_server()
    assert server is not None  # no PREFECT_API_URL in the settings, so none in the environment
    server.wait_ready(float(os.environ.get(STARTUP_TIMEOUT_ENV, "180")))
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield server.api_url
