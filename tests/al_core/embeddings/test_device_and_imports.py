from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from al_core import device


def test_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(device, "cuda_available", lambda: False)
    assert device.pick_device() == "cpu"
    assert device.pick_device("auto") == "cpu"
    monkeypatch.setattr(device, "cuda_available", lambda: True)
    assert device.pick_device() == "cuda"
    assert device.pick_device("cuda:1") == "cuda:1"


def test_explicit_preference_wins(monkeypatch):
    monkeypatch.setattr(device, "cuda_available", lambda: True)
    assert device.pick_device("cpu") == "cpu"
    assert device.pick_device("CPU") == "cpu"
    monkeypatch.setattr(device, "cuda_available", lambda: False)
    with pytest.raises(device.DeviceUnavailableError, match="CUDA is not available"):
        device.pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        device.pick_device("tpu")


def test_detection_runs_once_per_process():
    device.cuda_available.cache_clear()
    first = device.pick_device()
    second = device.pick_device()
    assert first == second
    info = device.cuda_available.cache_info()
    assert info.misses == 1 and info.hits >= 1


def test_packages_import_without_heavy_dependencies():
    code = (
        "import sys, al_core.embeddings, al_core.classifiers, al_core.device, al_core.hashing\n"
        "heavy = [m for m in ('torch', 'sklearn', 'sentence_transformers', 'transformers')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    repo_root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)
