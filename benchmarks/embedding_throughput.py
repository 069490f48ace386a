"""Benchmark: the embedding step against raw ``SentenceTransformer.encode``, the cache's second
pass, and fine-tuning examples per second on CPU.

In one process, on the same texts (TREC-6 training questions), alternating to share the
machine's noise fairly:

* ``raw``: ``SentenceTransformer.encode(texts, batch_size=64)`` on the packaged MiniLM;
* ``embedder``: :class:`al_core.embeddings.SentenceEmbedder` ``.transform`` (what the cache
  calls for missing texts);
* ``cache, first pass``: :class:`al_core.embeddings.EmbeddingCache` ``.get_or_compute`` on an
  empty cache (embed + write), then the second pass on the same texts (must embed nothing).

Then the fine-tuning rate of ``transformer`` (one epoch) and ``setfit`` (one body fine-tune)
on 128 questions. Target: the embedder at least 0.9 of raw. Writes
``benchmarks/results/embedding_throughput.json``::

    nice -n 10 .venv/bin/python benchmarks/embedding_throughput.py [--texts 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/embedding_throughput.json"
    )
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from al_core.classifiers import SetFitClassifier, TransformerClassifier
    from al_core.embeddings import EmbeddingCache, SentenceEmbedder
    from al_core.hashing import content_hashes

    frame = pd.read_parquet(REPO / "data" / "trec6" / "train.parquet")
    texts = frame.text.iloc[: args.texts].tolist()
    embedder = SentenceEmbedder()
    st = embedder.load()  # the same loaded model for both paths
    st.encode(texts[:64], batch_size=64)  # warm-up

    raw_s, ours_s = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        raw = st.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        raw_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ours = embedder.transform(texts)
        ours_s.append(time.perf_counter() - t0)
    max_diff = float(np.abs(np.asarray(raw, dtype=np.float32) - ours).max())

    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(tmp)
        hashes = content_hashes(texts)
        t0 = time.perf_counter()
        cache.get_or_compute(embedder, texts, content_hashes=hashes)
        first_s = time.perf_counter() - t0
        embedded_first = cache.count(embedder.model_id)
        calls = {"n": 0}
        original = embedder.transform

        def counting(batch, progress=False):
            calls["n"] += len(batch)
            return original(batch, progress=progress)

        embedder.transform = counting
        t0 = time.perf_counter()
        again = cache.get_or_compute(embedder, texts, content_hashes=hashes)
        second_s = time.perf_counter() - t0
        embedder.transform = original
        assert np.allclose(again, ours, atol=1e-5)

    names = sorted(set(frame.label))
    sample = frame.sample(n=128, random_state=0)
    X, y = sample.text.tolist(), sample.label.map(names.index).to_numpy()
    t0 = time.perf_counter()
    tr = TransformerClassifier(6, seed=0, epochs=1, min_steps=0, validation_fraction=0.0).fit(X, y)
    transformer_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sf = SetFitClassifier(6, seed=0, num_iterations=2, max_pairs=256).fit(X, y)
    setfit_s = time.perf_counter() - t0

    raw_rate = len(texts) / statistics.median(raw_s)
    ours_rate = len(texts) / statistics.median(ours_s)
    record = {
        "benchmark": "embedding_throughput",
        "texts": len(texts),
        "rounds": args.rounds,
        "raw_encode_texts_per_s": round(raw_rate, 1),
        "embedder_texts_per_s": round(ours_rate, 1),
        "embedder_over_raw": round(ours_rate / raw_rate, 3),
        "max_abs_difference": max_diff,
        "cache_first_pass_texts_per_s": round(len(texts) / first_s, 1),
        "cache_first_pass_over_raw": round(len(texts) / first_s / raw_rate, 3),
        "cache_first_pass_embedded": embedded_first,
        "cache_second_pass_seconds": round(second_s, 3),
        "cache_second_pass_embedded": calls["n"],
        "fine_tune_cpu": {
            "transformer_examples_per_s": round(len(X) / transformer_s, 1),
            "transformer_steps": tr.train_info_["steps"],
            "setfit_pairs": 256,
            "setfit_pair_examples_per_s": round(256 / setfit_s, 1),
            "setfit_seconds_incl_head": round(setfit_s, 1),
            "setfit_body_steps": sf.train_info_.get("body_steps"),
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": round(os.getloadavg()[0], 2),
            "note": "shared 2-core machine; compare the ratios, not the absolute rates",
        },
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(json.dumps(record, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
