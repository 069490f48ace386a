"""``benchmarks/gpu_check.py`` runs on CPU (small sizes), so it is known to work before a GPU
machine ever runs it."""

from __future__ import annotations

import importlib.util
import json

from tests.conftest import REPO


def test_gpu_check_runs_on_cpu_with_small_sizes(tiny_model_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    out = tmp_path / "gpu.json"
    record = gpu_check.main(
        [
            "--small",
            "--model",
            str(tiny_model_dir),
            "--train-items",
            "40",
            "--embed-texts",
            "120",
            "--out",
            str(out),
        ]
    )
    assert json.loads(out.read_text()) == record
    assert record["device"] == "cpu" and record["precision"] == "float32"
    assert record["fine_tune"]["items"] == 40 and record["fine_tune"]["items_per_second"] > 0
    assert record["embed"]["texts"] == 120 and record["embed"]["dimension"] == 32
    assert record["peak_gpu_memory_mib"] is None and record["peak_rss_mib"] > 0
