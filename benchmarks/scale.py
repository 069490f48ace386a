"""The 1M-item scale targets, measured as a user meets them (CLI commands in subprocesses).

Builds a synthetic workspace of ``--items`` pool texts (default 1,000,000) plus ``--eval``
labelled evaluation texts, then measures:

* ``alflow status`` against a bare ``import pandas, duckdb, pyarrow.parquet`` (same run);
* ``alflow ingest`` of the pool file; ``alflow import-labels`` of 1,000 labels;
* ``alflow iterate`` (default setup: embedding-logreg on MiniLM vectors): wall time, the
  pipeline's own per-step timings (fit, scoring, embedding) and the rest ("overhead"), and
  peak memory (RSS of the command's process, and of its whole process tree);
* the workspace after ``--aged`` iterations and ``--aged`` label files (written through the real
  ``Workspace.transaction`` API, one transaction each, as the pipeline writes them) against a
  fresh copy holding the same rows written in one transaction: ``status`` and ``iterate``.

Texts are real sentences recombined: two fragments of 20 Newsgroups posts of the same
top-level group (comp, rec, sci, politics, religion, forsale), so the label set has 6 classes.
Embeddings are not computed (MiniLM would take hours here): vectors for the packaged MiniLM's
model id are written straight into the workspace's embedding cache, a class direction plus
noise, unit length, so the classifier learns something and the cache holds what the real
embedder would put there (384 float32 per text).

    nice -n 10 python benchmarks/scale.py                  # 1M items (about 20 min here)
    python benchmarks/scale.py --items 100000 --aged 200   # a smaller smoke run

Prints and saves ``benchmarks/results/scale.json`` (``--out`` to change). The machine is
shared: the ratios (status / bare import, aged / fresh) are measured in the same run; the load
average is recorded before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "scale.json"
# ../shared/data beside the clone (CI, the main checkout); a worktree sits one level deeper.
DATA = next(
    (
        p / "shared" / "data" / "20newsgroups" / "train.parquet"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared" / "data" / "20newsgroups").is_dir()
    ),
    REPO.parent / "shared" / "data" / "20newsgroups" / "train.parquet",
)
GROUPS = {
    "comp": "computers",
    "rec": "recreation",
    "sci": "science",
    "talk.politics": "politics",
    "religion": "religion",
    "misc.forsale": "forsale",
}
LABELS = list(GROUPS.values())
DIM = 384  # all-MiniLM-L6-v2

# -- the synthetic data ------------------------------------------------------------------------


def group_of(newsgroup: str) -> str:
    for prefix, name in GROUPS.items():
        if newsgroup.startswith(prefix) or (prefix == "religion" and "religion" in newsgroup):
            return name
    return "religion"  # alt.atheism


def fragments(source: Path = DATA) -> tuple[list[str], np.ndarray]:
    """Fragments of about 20 words from the bodies of 20 Newsgroups posts, and their group."""
    import pandas as pd

    if not source.is_file():
        raise SystemExit(f"the 20 Newsgroups data is missing: {source}")
    posts = pd.read_parquet(source, columns=["text", "label"])
    frags, groups = [], []
    for text, label in zip(posts.text, posts.label, strict=True):
        body = text.split("\n\n", 1)[-1]  # after the header block
        words = [w for w in re.split(r"\s+", body) if w and not w.startswith((">", "|", "--"))]
        for k in range(0, min(len(words), 400) - 20, 20):
            frags.append(" ".join(words[k : k + 20]))
            groups.append(LABELS.index(group_of(label)))
    return frags, np.asarray(groups, dtype=np.int64)


def synthetic_texts(n: int, seed: int, frags: list[str], groups: np.ndarray):
    """``n`` distinct texts (two fragments of one group joined) and their label index."""
    rng = np.random.default_rng(seed)
    by_group = [np.flatnonzero(groups == g) for g in range(len(LABELS))]
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    while len(texts) < n:
        need = n - len(texts)
        lab = rng.integers(0, len(LABELS), need)
        for g in range(len(LABELS)):
            rows = int((lab == g).sum())
            a = rng.choice(by_group[g], rows)
            b = rng.choice(by_group[g], rows)
            for i, j in zip(a, b, strict=True):
                text = f"{frags[i]} {frags[j]}"
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(g)
    order = rng.permutation(len(texts))[:n]  # mix the groups
    return [texts[i] for i in order], np.asarray(labels)[order]


def write_sources(folder: Path, n_pool: int, n_eval: int, seed: int) -> dict[str, Any]:
    import pandas as pd

    frags, groups = fragments()
    texts, labels = synthetic_texts(n_pool + n_eval, seed, frags, groups)
    ids = [f"s{i:07d}" for i in range(n_pool + n_eval)]
    names = np.asarray(LABELS)[labels]
    pool = pd.DataFrame({"id": ids[:n_pool], "text": texts[:n_pool]})
    pool.to_parquet(folder / "pool.parquet", index=False)
    ev = pd.DataFrame({"id": ids[n_pool:], "text": texts[n_pool:], "label": names[n_pool:]})
    ev.to_parquet(folder / "eval.parquet", index=False)
    gold = pd.DataFrame({"id": ids, "label": names})
    gold.to_parquet(folder / "gold.parquet", index=False)
    return {"fragments": len(frags), "mean_chars": float(np.mean([len(t) for t in texts]))}


def write_embeddings(ws_path: Path, gold_path: Path, seed: int, chunk: int = 100_000) -> dict:
    """Vectors for every stored text under the packaged MiniLM's model id (see docstring)."""
    import pandas as pd
    import pyarrow as pa

    from al_core.embeddings import EmbeddingCache
    from al_core.registry import make_embedder
    from al_core.storage import Workspace

    ws = Workspace.open(ws_path)
    items = ws.query("SELECT id, content_hash FROM pool ORDER BY id")
    gold = pd.read_parquet(gold_path)
    label = dict(zip(gold.id, gold.label, strict=True))
    y = np.asarray([LABELS.index(label[i]) for i in items.id])
    model_id = make_embedder("minilm").model_id
    cache = EmbeddingCache(ws.location.child("embeddings"))
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((len(LABELS), DIM)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    started = time.perf_counter()
    hashes = pa.array(items.content_hash)
    for start in range(0, len(items), chunk):
        part = slice(start, start + chunk)
        v = rng.standard_normal((len(y[part]), DIM)).astype(np.float32) / np.sqrt(DIM)
        v += 0.08 * centers[y[part]]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        cache.put(model_id, hashes[part].to_pylist(), v, embedder="minilm")
    return {"model_id": model_id, "vectors": len(items), "seconds": time.perf_counter() - started}


# -- running commands as a user does -----------------------------------------------------------


def _tree_rss(proc) -> tuple[int, int]:
    import psutil

    try:
        main = proc.memory_info().rss
        kids = sum(c.memory_info().rss for c in proc.children(recursive=True))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0, 0
    return main, main + kids


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, peak RSS of the process and of its tree (MB), stdout."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or os.environ
    )
    ps = psutil.Process(proc.pid)
    peak = [0, 0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            main, tree = _tree_rss(ps)
            peak[0], peak[1] = max(peak[0], main), max(peak[1], tree)
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    done.set()
    watcher.join()
    seconds = time.perf_counter() - started
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak[0] / 2**20, 1),
        "peak_tree_rss_mb": round(peak[1] / 2**20, 1),
        "stdout": out,
        "stderr": err,
        "returncode": proc.returncode,
    }


def alflow(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    return run([sys.executable, "-c", "from flows.cli import main; main()", *args], env=env)


def median_run(cmd: list[str], repeats: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    runs = [run(cmd, env=env) for _ in range(repeats)]
    return {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "runs": [r["seconds"] for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
