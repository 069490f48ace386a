"""Test-wide settings: offline, quiet, and paths to the embedded data."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Prefect's temporary server may take far longer than its 20 s default to answer on a busy
# machine (the CLI sets the same default); set before anything imports Prefect.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# Under pytest-xdist (``make test``: two workers on two cores) each worker's torch and BLAS use
# one thread; with two threads each, waiting threads spun on the other worker's core (a real
# MiniLM fine-tuning test took 195 s instead of 46 s).
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TREC = REPO / "data" / "trec6"
TREC_LABELS = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


@pytest.fixture
def trec_dir() -> Path:
    return TREC


@pytest.fixture
def make_workspace(tmp_path):
    """Create a workspace in a fresh folder: ``make_workspace(labels=[...], multi_label=...)``."""
    from al_core.storage import Workspace, WorkspaceConfig

    def make(labels=("pos", "neg"), **kwargs):
        return Workspace.init(tmp_path / "ws", WorkspaceConfig(labels=list(labels), **kwargs))

    return make


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory) -> dict[str, str]:
    """Environment for ``alflow`` subprocesses that run flows: one ``PREFECT_HOME`` per session.

    The first temporary Prefect server creates and migrates the SQLite database there; later
    commands reuse it instead of paying the migration again in each test.
    """
    return {"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (moto's server mode) on loopback, for the whole session.

    The AWS_* variables point deltalake, pyarrow and boto3 at it; the bucket ``alflow-test``
    exists. Returns the endpoint URL.
    """
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the moto S3 server did not start") from None
            time.sleep(0.2)
    saved = {k: os.environ.get(k) for k in _S3_ENV}
    os.environ.update({**_S3_ENV, "AWS_ENDPOINT_URL": endpoint})
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="alflow-test")
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_S3_ENV = {
    "AWS_ENDPOINT_URL": "",
    "AWS_ALLOW_HTTP": "true",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture
def s3_url(s3_server, tmp_path, monkeypatch):
    """A fresh workspace URL on the local S3 server (local copies go under tmp_path)."""
    import uuid

    monkeypatch.setenv("ALFLOW_CACHE_DIR", str(tmp_path / "alflow-cache"))
    return f"s3://alflow-test/ws-{uuid.uuid4().hex[:8]}"


# --- real servers (tests/servers.py) --------------------------------------------------------


SERVER_FIXTURES = ("label_studio", "prefect_api")
# Tests that take tens of seconds (flows through the command line, real servers).
SLOW_MARKS = ("e2e", "integration", "slow")


@pytest.hookimpl(trylast=True)  # after -k / -m deselection
def pytest_collection_modifyitems(session, config, items):
    """Start the servers the selected tests need now, so their start-up overlaps other tests.

    Under pytest-xdist (``make test``) the workers instead name those tests for the controller,
    which runs them all on one worker (``tests/parallel.py``), and put the slow tests first.
    """
    from tests import parallel, servers

    def needs_server(item) -> bool:
        return bool(set(SERVER_FIXTURES) & set(getattr(item, "fixturenames", ())))

    if parallel.is_worker():
        items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_MARKS))
        parallel.write_group([item.nodeid for item in items if needs_server(item)])
        return
    servers.start_early({name for item in items for name in getattr(item, "fixturenames", ())})


def pytest_configure(config):
    from tests import parallel

    if parallel.is_controller(config):
        parallel.announce_group_file()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from tests import parallel

    if config.getvalue("dist") == "load":  # ``-n N`` without another ``--dist``
        return parallel.make_scheduler(config, log)
    return None


def pytest_unconfigure(config):
    from tests import parallel, servers

    servers.stop_all()
    if parallel.is_controller(config):
        parallel.remove_group_file()


@pytest.fixture(scope="session")
def label_studio():
    """A real Label Studio server on loopback (``.url``, ``.token``: a legacy API token)."""
    from tests import servers

    server = servers.started("label_studio")
    if server is None:
        servers.missing(f"Label Studio is not installed in {servers.LS_VENV} (make labelstudio)")
    return server.wait()


@pytest.fixture(scope="session")
def prefect_api():
    """A real ``prefect server start`` on loopback (``.url`` is its API URL)."""
    from tests import servers

    return servers.started("prefect_api").wait()


def _server_start_lines() -> list[str]:
    from tests import servers

    return [
        f"{server.name} ({name}) healthy {server.ready_after_s:.1f} s after its start"
        for name, server in servers._STARTED.items()
        if server is not None
        and not isinstance(server, servers.External)
        and server.ready_after_s is not None
    ]


_WORKER_LINES: list[str] = []


def pytest_sessionfinish(session):
    """An xdist worker hands its server start-up lines to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["server_lines"] = _server_start_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _WORKER_LINES.extend(getattr(node, "workeroutput", {}).get("server_lines", []))


def pytest_terminal_summary(terminalreporter):
    """Say how long the real servers took to become healthy (CI logs keep the figure)."""
    for line in _server_start_lines() + _WORKER_LINES:
        terminalreporter.write_line(line)
