"""Test-wide settings: offline, quiet, and paths to the embedded data."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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
