"""Query latency and peak memory of every strategy on 10k / 100k / 1M pools, the uncertainty
strategies against a bare NumPy pass, the same strategies against small-text 1.4.1 on 50k
items, and exact vs approximate neighbour search on 100k vectors.

The pool: ``n`` unit-norm 384-d float32 vectors around 6 class centres (like sentence
embeddings), 100 labelled items per class, the real ``embedding-logreg`` classifier (and its
multi-label form for the multi-label strategies), batch size 25. Each pool size runs in its own
subprocess, so peak memory (the process's resident set, sampled every 5 ms while a query runs)
starts from the same baseline: the pool itself plus the fitted model.

The bare pass is what a user would write by hand over the same data in the same process:
``X @ W + b``, softmax, margin, ``argpartition`` of the top 25 (float32 throughout). It and the
uncertainty strategies are timed interleaved, and the ratio is of the medians.

small-text runs in its own virtual environment (``.alflow/bench/smalltext-venv``, created on
first use with ``small-text==1.4.1`` and scikit-learn only), in a subprocess, on the same
50,000 vectors and labels, with the same logistic regression and precomputed embeddings.

    nice -n 10 .venv/bin/python benchmarks/query_strategies.py [--sizes 10000,100000,1000000]

Results: ``benchmarks/results/query_strategies.json``. Not a timed test. The machine is shared,
so absolute seconds are noisy; the ratios are measured within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

DIM, CLASSES, PER_CLASS, BATCH = 384, 6, 100, 25
UNCERTAINTY = ("least-confidence", "prediction-entropy", "breaking-ties")
NEEDS_TORCH = ("bald", "expected-gradient-length", "expected-gradient-length-max-word")
NEEDS_TORCH += ("expected-gradient-length-layer",)
SMALLTEXT_VENV = REPO / ".alflow" / "bench" / "smalltext-venv"
SMALLTEXT_SIZE = 50_000


# -- data --------------------------------------------------------------------------------------


def make_pool(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n, 384) unit float32, single labels, multi labels, and the labelled indices."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLASSES, DIM), dtype=np.float32)
    y = rng.integers(0, CLASSES, n)
    X = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: no float64 temporaries of the whole pool
        stop = min(start + 100_000, n)
        block = rng.standard_normal((stop - start, DIM), dtype=np.float32) * 2.5
        block += centres[y[start:stop]]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        X[start:stop] = block
    y_multi = np.zeros((n, CLASSES), dtype=np.int8)
    y_multi[np.arange(n), y] = 1
    y_multi[np.arange(0, n, 3), (y[::3] + 1) % CLASSES] = 1
    labeled = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), PER_CLASS, replace=False) for c in range(CLASSES)]
    )
    return X, y, y_multi, np.sort(labeled)


# -- measuring ---------------------------------------------------------------------------------


class PeakRSS:
    """Samples this process's resident set size in a thread while the block runs."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self.proc, self.interval = psutil.Process(), interval

    def __enter__(self):
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def strategy_names() -> list[str]:
    from al_core.query import REGISTRY

    return [name for name in REGISTRY if name not in NEEDS_TORCH]


def make(name: str):
    from al_core.registry import make_strategy

    return make_strategy(name)


# -- one pool size (runs in a subprocess) ------------------------------------------------------


def bare_pass(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    z = X @ W
    z += b
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    top2 = np.partition(z, -2, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    return np.argpartition(margin, BATCH)[:BATCH]


def run_size(n: int, names: list[str]) -> dict:
    from sklearn.linear_model import LogisticRegression

    from al_core.classifiers import EmbeddingLogRegClassifier

    X, y, y_multi, labeled = make_pool(n)
    unlabeled = np.setdiff1d(np.arange(n), labeled)
    clf = EmbeddingLogRegClassifier(CLASSES, seed=0).fit(X[labeled], y[labeled])
    clf_multi = EmbeddingLogRegClassifier(CLASSES, multi_label=True, seed=0).fit(
        X[labeled], y_multi[labeled]
    )
    bare_model = LogisticRegression(C=3.0, max_iter=1000).fit(X[labeled], y[labeled])
    W = bare_model.coef_.T.astype(np.float32)
    b = bare_model.intercept_.astype(np.float32)
    pool_gb = X.nbytes / 2**30
    out: dict = {"pool": n, "pool_gb": round(pool_gb, 3), "strategies": {}}
    repeats = 5 if n <= 10_000 else 3 if n <= 100_000 else 3
    for name in names:
        strategy = make(name)
        multi = "single" not in strategy.label_types
        args = (clf_multi if multi else clf, X, unlabeled, labeled)
        yl = y_multi[labeled] if multi else y[labeled]
        row: dict = {}
        try:
            with PeakRSS() as mem:
                seconds = timed(lambda s=strategy, a=args, t=yl: s.query(*a, t, BATCH, seed=0))
            row["seconds"] = round(seconds, 4)
            row["peak_rss_gb"] = round(mem.peak / 2**30, 3)
            row["extra_gb"] = round((mem.peak - mem.start) / 2**30, 3)
            if name in UNCERTAINTY:  # interleaved with the bare pass, medians
                ours, bare = [seconds], []
                for _ in range(repeats):
                    bare.append(timed(lambda: bare_pass(X, W, b)))
                    ours.append(
                        timed(lambda s=strategy, a=args, t=yl: s.query(*a, t, BATCH, seed=0))
                    )
                row["seconds"] = round(float(np.median(ours)), 4)
                row["bare_seconds"] = round(float(np.median(bare)), 4)
                row["ratio_to_bare"] = round(float(np.median(ours) / np.median(bare)), 2)
        except Exception as err:  # report, do not hide: one failing strategy
            row["error"] = f"{type(err).__name__}: {err}"
        out["strategies"][name] = row
        print(f"  {n:>8} {name:45s} {row}", flush=True)
    return out


# -- small-text --------------------------------------------------------------------------------

SMALLTEXT_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
warnings.filterwarnings("ignore")
import small_text.query_strategies as st
from small_text import SklearnDataset, SklearnClassifierFactory

folder = sys.argv[1]
X = np.load(folder + "/X.npy"); y = np.load(folder + "/y.npy"); ym = np.load(folder + "/ym.npy")
labeled = np.load(folder + "/labeled.npy")
unlabeled = np.setdiff1d(np.arange(len(X)), labeled)
BATCH = int(sys.argv[2])

class Clf:
    # the same logistic regression as the alflow side; embed returns the features
    def __init__(self, multi=False):
        self.multi = multi
        if multi:
            self.models = [LogisticRegression(C=3.0, max_iter=1000).fit(X[labeled], ym[labeled, j])
                           for j in range(ym.shape[1])]
        else:
            self.model = LogisticRegression(C=3.0, max_iter=1000).fit(X[labeled], y[labeled])
    def predict_proba(self, data):
        x = data.x
        if self.multi:
            return np.column_stack([m.predict_proba(x)[:, 1] for m in self.models])
        return self.model.predict_proba(x)
    num_classes = 6
    def embed(self, data, return_proba=False, **kwargs):
        return (data.x, self.predict_proba(data)) if return_proba else data.x

class TableClf:
    # fixed probabilities looked up by the row id in column 0: no model cost (strategy only)
    def __init__(self, proba):
        self.proba = proba
    def predict_proba(self, data):
        return self.proba[data.x[:, 0].astype(np.int64)]

def best_of(fn):
    t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
    if first > 5:
        return first
    t0 = time.perf_counter(); fn(); return min(first, time.perf_counter() - t0)

dataset = SklearnDataset(X, y)
clf = Clf()
factory = SklearnClassifierFactory(LogisticRegression(C=3.0, max_iter=1000), num_classes=2)
runs = {
    "random": (st.RandomSampling(), {}),
    "least-confidence": (st.LeastConfidence(), {}),
    "prediction-entropy": (st.PredictionEntropy(), {}),
    "breaking-ties": (st.BreakingTies(), {}),
    "embedding-kmeans": (st.EmbeddingKMeans(), {"embeddings": X}),
    "greedy-coreset": (st.GreedyCoreset(), {"embeddings": X}),
    "lightweight-coreset": (st.LightweightCoreset(), {"embeddings": X}),
    "contrastive-active-learning": (st.ContrastiveActiveLearning(k=10), {"embeddings": X}),
    "discriminative-active-learning": (
        st.DiscriminativeActiveLearning(factory, num_iterations=10), {}),
    "random-subsampling": (st.SubsamplingQueryStrategy(st.BreakingTies()), {}),
    "seals": (st.SEALS(st.BreakingTies()), {}),
    "anchor-subsampling": (st.AnchorSubsampling(st.BreakingTies()), {}),
}
out = {}
for name, (strategy, kwargs) in runs.items():
    try:
        seconds = best_of(lambda: strategy.query(
            clf, dataset, unlabeled, labeled, y[labeled], n=BATCH, **kwargs))
        out[name] = {"seconds": round(seconds, 4)}
    except Exception as err:
        out[name] = {"error": f"{type(err).__name__}: {err}"[:300]}
    print(name, out[name], file=sys.stderr, flush=True)
try:
    ml_data = SklearnDataset(X, csr_matrix(ym))
    clf_m = Clf(multi=True)
    t0 = time.perf_counter()
    st.CategoryVectorInconsistencyAndRanking(pbar=None).query(
        clf_m, ml_data, unlabeled, labeled, csr_matrix(ym[labeled]), n=BATCH)
    out["category-vector-inconsistency-and-ranking"] = {"seconds": round(time.perf_counter() - t0, 4)}
except Exception as err:
    out["category-vector-inconsistency-and-ranking"] = {"error": f"{type(err).__name__}: {err}"[:300]}
table = np.load(folder + "/table.npy")
ids = SklearnDataset(np.arange(len(X), dtype=np.float64)[:, None], y)
for name, strategy in (("least-confidence", st.LeastConfidence()),
                       ("prediction-entropy", st.PredictionEntropy()),
                       ("breaking-ties", st.BreakingTies())):
    seconds = best_of(lambda: strategy.query(
        TableClf(table), ids, unlabeled, labeled, y[labeled], n=BATCH))
    out[name]["table_seconds"] = round(seconds, 4)
print(json.dumps(out))
"""


class TableClassifier:
    """Fixed probabilities looked up by the row id in column 0 (no model cost)."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba[X[:, 0].astype(np.int64)]


def ensure_smalltext_venv() -> Path:
    python = SMALLTEXT_VENV / "bin" / "python"
    if not python.exists():
        SMALLTEXT_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(SMALLTEXT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "small-text==1.4.1", "scikit-learn"],
            check=True,
        )
    return python


def run_smalltext_comparison() -> dict:
    from al_core.classifiers import EmbeddingLogRegClassifier

    X, y, y_multi, labeled = make_pool(SMALLTEXT_SIZE, seed=1)
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled)
    python = ensure_smalltext_venv()
    with tempfile.TemporaryDirectory() as tmp:
        table = np.random.default_rng(4).dirichlet(np.ones(CLASSES), size=len(X))
        arrays = {"X": X, "y": y, "ym": y_multi, "labeled": labeled, "table": table}
        for name, arr in arrays.items():
            np.save(f"{tmp}/{name}.npy", arr)
        script = Path(tmp) / "smalltext_bench.py"
        script.write_text(SMALLTEXT_SCRIPT)
        proc = subprocess.run(
            [str(python), str(script), tmp, str(BATCH)], capture_output=True, text=True
        )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    clf = EmbeddingLogRegClassifier(CLASSES, seed=0).fit(X[labeled], y[labeled])
    clf_multi = EmbeddingLogRegClassifier(CLASSES, multi_label=True, seed=0).fit(
        X[labeled], y_multi[labeled]
    )
    rows = {}
    for name, their in theirs.items():
        strategy = make(name)
        multi = "single" not in strategy.label_types
        args = (clf_multi if multi else clf, X, unlabeled, labeled)
        yl = y_multi[labeled] if multi else y[labeled]
        ours = min(
            timed(lambda s=strategy, a=args, t=yl: s.query(*a, t, BATCH, seed=0)) for _ in range(2)
        )
        row = {"alflow_seconds": round(ours, 4), "smalltext": their}
        if "seconds" in their:
            row["speedup"] = round(their["seconds"] / ours, 1)
        if "table_seconds" in their:  # the strategy's own work: probabilities from a table
            ids = np.arange(len(X), dtype=np.float64)[:, None]
            ours_t = min(
                timed(
                    lambda s=strategy, i=ids: s.query(
                        TableClassifier(table), i, unlabeled, labeled, y[labeled], BATCH, seed=0
                    )
                )
                for _ in range(3)
            )
            row["alflow_table_seconds"] = round(ours_t, 4)
            row["table_speedup"] = round(their["table_seconds"] / ours_t, 1)
        rows[name] = row
        print(f"  small-text {name:45s} {row}", flush=True)
    return {"pool": SMALLTEXT_SIZE, "strategies": rows}


# -- vector indices ----------------------------------------------------------------------------


def run_indices(n: int = 100_000, queries: int = 1000, k: int = 10) -> dict:
    from al_core.indices import make_index

    X, _, _, _ = make_pool(n, seed=2)
    Q = X[np.random.default_rng(3).choice(n, queries, replace=False)]
    out = {"vectors": n, "queries": queries, "k": k}
    exact = make_index("exact", "cosine")
    build = timed(lambda: exact.build(X))
    t0 = time.perf_counter()
    _, truth = exact.search(Q, k)
    out["exact"] = {
        "build_seconds": round(build, 3),
        "query_seconds": round(time.perf_counter() - t0, 3),
    }
    try:
        hnsw = make_index("hnsw", "cosine")
        build = timed(lambda: hnsw.build(X))
        t0 = time.perf_counter()
        _, ids = hnsw.search(Q, k)
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, truth, strict=True)])
        out["hnsw"] = {
            "build_seconds": round(build, 3),
            "query_seconds": round(time.perf_counter() - t0, 3),
            "recall_at_k": round(float(recall), 4),
        }
    except ImportError as err:
        out["hnsw"] = {"error": str(err)}
    print(f"  indices {out}", flush=True)
    return out


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--strategies", default=None, help="comma-separated (default: all)")
    parser.add_argument("--skip-smalltext", action="store_true")
    parser.add_argument("--skip-indices", action="store_true")
    parser.add_argument(
        "--update", action="store_true", help="merge the strategies run into the existing --out"
    )
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/query_strategies.json"))
    args = parser.parse_args()
    names = args.strategies.split(",") if args.strategies else strategy_names()
    if args.one_size:  # child process: one pool size, JSON on the last stdout line
        print(json.dumps(run_size(args.one_size, names)))
        return
    result: dict = {
        "benchmark": "query_strategies",
        "cpus": os.cpu_count(),
        "batch": BATCH,
        "dim": DIM,
        "classes": CLASSES,
        "labeled": CLASSES * PER_CLASS,
        "note": "shared 2-core machine; ratios are within one run",
        "not_measured": {
            n: "needs a torch classifier (MC dropout / gradients)" for n in NEEDS_TORCH
        },
        "pools": [],
    }
    target = Path(args.out)
    previous = json.loads(target.read_text()) if args.update and target.exists() else None
    for size in [int(v) for v in args.sizes.split(",") if v.strip()]:
        cmd = [sys.executable, __file__, "--one-size", str(size), "--strategies", ",".join(names)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        lines = proc.stdout.strip().splitlines()
        print("\n".join(lines[:-1]))
        if previous is not None and proc.returncode == 0:
            pool = next(p for p in previous["pools"] if p["pool"] == size)
            pool["strategies"].update(json.loads(lines[-1])["strategies"])
            continue
        result["pools"].append(
            json.loads(lines[-1])
            if proc.returncode == 0
            else {"pool": size, "error": proc.returncode}
        )
    if previous is not None:
        result = previous
    if not args.skip_indices:
        result["indices"] = run_indices()
    if not args.skip_smalltext:
        result["smalltext"] = run_smalltext_comparison()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {target}")


if __name__ == "__main__":
    main()
