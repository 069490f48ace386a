"""Heavy libraries load only when a model trains; torch's thread count is restored."""

from __future__ import annotations

import subprocess
import sys

import torch

from al_core.device import autocast, torch_threads


def test_importing_the_classifiers_loads_no_heavy_library():
    code = (
        "import sys, al_core.classifiers, al_core.registry;"
        "al_core.registry.make_classifier('setfit:model=/x', 3);"
        "print(sorted(m for m in ('torch','transformers','sklearn','skops') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_torch_threads_are_restored_and_cpu_autocast_is_a_no_op():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with autocast("cpu"):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
