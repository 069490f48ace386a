"""Real servers for the tests, on free loopback ports: Label Studio and a Prefect server.

Each is started as a subprocess in its own process group when the first test that needs it is
collected (:func:`start_early`), so its start-up (Label Studio: about 30 s idle, two minutes
on a busy machine) overlaps with the tests that run before it; the session fixture then waits
for its health check and stops it at the end.

Label Studio runs from its own virtual environment, ``.venv-labelstudio/`` (``make
labelstudio``; ``make test`` installs it). When it is missing the tests that need it fail under
``make test`` and CI (``ALFLOW_REQUIRE_SERVERS=1``) and are skipped, with the reason, otherwise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LS_VENV = REPO / ".venv-labelstudio"
LS_EXE = LS_VENV / "bin" / "label-studio"
LS_ADMIN = "admin@example.com"
# Generous: a fresh Label Studio migrates its database first (115 s measured with both cores
# busy); Prefect's server migrates too.
STARTUP_TIMEOUT_S = float(os.environ.get("ALFLOW_TEST_SERVER_TIMEOUT_S", "600"))


def require_servers() -> bool:
    """True under ``make test`` and CI, where a missing server is a failure, not a skip."""
    return os.environ.get("ALFLOW_REQUIRE_SERVERS") == "1"


def missing(reason: str) -> None:
    if require_servers():
        pytest.fail(reason + " (ALFLOW_REQUIRE_SERVERS=1: run `make labelstudio`)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    url: str
    health: str
    proc: subprocess.Popen
    log: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    started: float = field(default_factory=time.monotonic)
    ready_after_s: float | None = None

    def __post_init__(self) -> None:
        # Poll from the start, so ready_after_s is the real start-up time however late the
        # first test that needs the server asks for it.
        self._ready = threading.Event()
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self) -> None:
        deadline = self.started + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and self.alive():
            try:
                with urllib.request.urlopen(self.health, timeout=5) as r:
                    if r.status == 200:
                        self.ready_after_s = time.monotonic() - self.started
                        break
            except OSError:
                pass
            time.sleep(0.5)
        self._ready.set()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> Server:
        self._ready.wait(max(0.0, self.started + STARTUP_TIMEOUT_S - time.monotonic()) + 10)
        if self.ready_after_s is None:
            state = "was not healthy" if self.alive() else "exited"
            raise RuntimeError(
                f"{self.name} {state} within {STARTUP_TIMEOUT_S:.0f} s:\n{self.tail()}"
            )
        return self

    def tail(self, n: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


class External(Server):
    """A server someone else runs (``ALFLOW_TEST_LABEL_STUDIO_URL`` and ``..._TOKEN``)."""

    def alive(self) -> bool:
        return True

    def stop(self) -> None:
        pass


def start_label_studio() -> Server | None:
    """Start Label Studio with a fixed legacy token and a throwaway data folder (None if absent).

    While developing, ``ALFLOW_TEST_LABEL_STUDIO_URL`` and ``ALFLOW_TEST_LABEL_STUDIO_TOKEN``
    point the tests at a running server instead (its start-up is slow); each test makes its
    own projects, so a used server is fine.
    """
    external = os.environ.get("ALFLOW_TEST_LABEL_STUDIO_URL")
    if external:
        token = os.environ["ALFLOW_TEST_LABEL_STUDIO_TOKEN"]
        proc = subprocess.Popen(["true"])
        url = external.rstrip("/")
        return External(
            "Label Studio",
            url,
            f"{url}/health",
            proc,
            Path(os.devnull),
            Path(tempfile.mkdtemp()),
            {},
            token,
        )
    if not LS_EXE.exists():
        return None
    workdir = Path(tempfile.mkdtemp(prefix="alflow-ls-"))
    port = free_port()
    token = secrets.token_hex(20)
    env = _clean_env(
        LABEL_STUDIO_BASE_DATA_DIR=str(workdir / "data"),
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
    )
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(LS_EXE),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "--port",
                str(port),
                "--username",
                LS_ADMIN,
                "--password",
                # Hex, not token_urlsafe: a password that starts with "-" (1 run in 64) is taken
                # by label-studio's argument parser for an option, and the server exits.
                secrets.token_hex(16),
                "--user-token",
                token,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    return Server("Label Studio", url, f"{url}/health", proc, log, workdir, env, token)


def start_prefect_server() -> Server:
    """``prefect server start`` on a free port with its own PREFECT_HOME (SQLite)."""
    workdir = Path(tempfile.mkdtemp(prefix="alflow-prefect-"))
    port = free_port()
    env = _clean_env(
        PREFECT_HOME=str(workdir / "home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_API_URL="",
    )
    env.pop("PREFECT_API_URL")
    log = workdir / "server.log"
    prefect = Path(sys.executable).with_name("prefect")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"
    return Server("Prefect server", url, f"{url}/health", proc, log, workdir, env)


_STARTED: dict[str, Server | None] = {}
_STARTERS = {"label_studio": start_label_studio, "prefect_api": start_prefect_server}


def start_early(fixture_names: set[str]) -> None:
    """Start the servers these fixtures need now, without waiting for them."""
    for name, start in _STARTERS.items():
        if name in fixture_names and name not in _STARTED:
            _STARTED[name] = start()


def started(name: str) -> Server | None:
    if name not in _STARTED:
        _STARTED[name] = _STARTERS[name]()
    return _STARTED[name]


def stop_all() -> None:
    for server in _STARTED.values():
        if server is not None:
            server.stop()
    _STARTED.clear()
