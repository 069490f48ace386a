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
