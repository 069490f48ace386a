"""GPU check: fine-tune the ``transformer`` classifier on AG News and embed many texts.

One short script for a machine with CUDA: fine-tunes on 2,000 AG News items (one epoch), then
embeds 50,000 texts with the ``minilm`` embedder, and prints throughput (items/s), the device,
the precision and the peak GPU memory. It runs the same code on CPU with ``--small`` (200
items, 1,000 texts), which is how the test suite checks it::

    .venv/bin/python benchmarks/gpu_check.py                 # on a GPU machine
    .venv/bin/python benchmarks/gpu_check.py --small         # anywhere
    .venv/bin/python benchmarks/gpu_check.py --small --model <folder> --out /tmp/g.json

AG News comes from ``../shared/data/agnews``; when absent, TREC-6 from ``data/trec6`` stands in
(the record says which). Writes ``benchmarks/results/gpu_check.json`` unless ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_texts(n_train: int, n_embed: int) -> tuple[str, list[str], list[str], list[str]]:
    import pandas as pd

    for folder in (REPO.parent / "shared" / "data" / "agnews", REPO / "data" / "trec6"):
        if (folder / "train.parquet").exists():
            frame = pd.read_parquet(folder / "train.parquet")
            break
    names = sorted(set(frame.label))
    train = frame.sample(n=min(n_train, len(frame)), random_state=0)
    texts = frame.text.tolist()
    embed = (texts * (n_embed // len(texts) + 1))[:n_embed]
    return folder.name, train.text.tolist(), train.label.map(names.index).tolist(), embed


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CPU-sized run (200 / 1,000)")
    parser.add_argument("--train-items", type=int, default=None)
    parser.add_argument("--embed-texts", type=int, default=None)
    parser.add_argument("--model", default=None, help="local model folder (default: MiniLM)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/gpu_check.json")
    args = parser.parse_args(argv)
    n_train = args.train_items or (200 if args.small else 2000)
    n_embed = args.embed_texts or (1000 if args.small else 50_000)

    import numpy as np
    import torch

    from al_core.classifiers import TransformerClassifier
    from al_core.device import autocast_dtype, pick_device
    from al_core.embeddings import SentenceEmbedder

    device = pick_device()
    cuda = device.startswith("cuda")
    dataset, texts, labels, embed_texts = load_texts(n_train, n_embed)
    y = np.asarray(labels)
    if cuda:
        torch.cuda.reset_peak_memory_stats()

    clf = TransformerClassifier(
        int(y.max()) + 1,
        seed=0,
        model=args.model,
        epochs=1,
        min_steps=0,
        validation_fraction=0.0,
        batch_size=32,
        inference_batch_size=256,
    )
    started = time.perf_counter()
    clf.fit(texts, y)
    if cuda:
        torch.cuda.synchronize()
    fit_seconds = time.perf_counter() - started
    train_accuracy = float((clf.predict(texts[:500]) == y[:500]).mean())

    embedder = SentenceEmbedder(model=args.model, batch_size=256 if cuda else 64)
    embedder.load()
    started = time.perf_counter()
    vectors = embedder.transform(embed_texts)
    if cuda:
        torch.cuda.synchronize()
    embed_seconds = time.perf_counter() - started

    record = {
        "benchmark": "gpu_check",
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "precision": str(autocast_dtype()).replace("torch.", "") if cuda else "float32",
        "dataset": dataset,
        "model": args.model or "packaged all-MiniLM-L6-v2",
        "fine_tune": {
            "items": len(texts),
            "epochs": 1,
            "seconds": round(fit_seconds, 2),
            "items_per_second": round(len(texts) / fit_seconds, 1),
            "steps": clf.train_info_.get("steps"),
            "train_accuracy_first_500": round(train_accuracy, 4),
        },
        "embed": {
            "texts": len(embed_texts),
            "dimension": int(vectors.shape[1]),
            "seconds": round(embed_seconds, 2),
            "texts_per_second": round(len(embed_texts) / embed_seconds, 1),
        },
        "peak_gpu_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if cuda
        else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(json.dumps(record, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    return record


if __name__ == "__main__":
    main()
