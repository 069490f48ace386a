"""The 1M-item scale targets, measured as a user meets them (CLI commands in subprocesses).

Builds a synthetic workspace of ``--items`` pool texts (default 1,000,000) plus ``--eval``
labelled evaluation texts, then measures:

* ``alflow status`` against a bare ``import pandas, duckdb, pyarrow.parquet`` (same run);
* ``alflow ingest`` of the pool file; ``alflow import-labels`` of 1,000 labels;
* ``alflow iterate`` (default setup: embedding-logreg on MiniLM vectors): wall time, the
  pipeline's own per-step timings (fit, scoring, embedding) and the rest ("overhead"), and
  peak memory (RSS of the command's process, and of its whole process tree). Without
  ``PREFECT_API_URL``, so each run starts Prefect's temporary server: the first run also
  creates Prefect's database (``iterate_first``), the targets are judged on the second
  (``iterate_second``); once more against a running ``prefect server start``;
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
import contextlib
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


def bench_folder(
    workdir: Path | None, prefix: str
) -> tuple[Path, dict[str, str], tempfile.TemporaryDirectory | None]:
    """The benchmark's folder (``workdir``, or a temporary one to clean up after) and the
    environment its commands run in: a Prefect home of its own, the hub offline, this checkout
    importable."""
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix=prefix)
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(workdir / "prefect"), "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return workdir, env, tmp


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- the aged workspace ------------------------------------------------------------------------


def aging_rows(k: int, gold: dict[str, str], ids: list[str], now) -> dict[str, list[dict]]:
    """The rows one label file (10 labels) and one recorded iteration add, as the pipeline
    writes them (label_events + ingest_log; iterations + query_log + stopping)."""
    batch = f"labels-aged-{k:05d}"
    picked = ids[k * 10 : k * 10 + 10]
    events = [
        {
            "event_id": f"ev-{batch}-{r:09d}",
            "id": i,
            "labels": [gold[i]],
            "skipped": False,
            "annotator": "bench",
            "source": "queue",
            "batch_id": batch,
            "external_key": f"{batch}:{r}",
            "created_at": now,
        }
        for r, i in enumerate(picked)
    ]
    log = [
        {
            "batch_id": batch,
            "kind": "labels",
            "source": f"{batch}.csv",
            "file_sha256": f"{k:064x}",
            "n_rows": 10,
            "n_added": 10,
            "n_duplicates": 0,
            "n_labels": 10,
            "n_quarantined": 0,
            "created_at": now,
        }
    ]
    iteration = 100_000 + k  # far above the benchmark's own iterations
    it = {
        "iteration": iteration,
        "status": "completed",
        "started_at": now,
        "finished_at": now,
        "n_labeled": 1000 + 10 * k,
        "n_new_labels": 10,
        "classifier": "embedding-logreg",
        "embedder": "minilm",
        "strategy": "breaking-ties",
        "accuracy": 0.5,
        "macro_f1": 0.5,
        "stop": False,
        "batch_id": f"batch-aged-{k:05d}",
        "message": "aged",
    }
    queried = ids[-(k + 1) * 25 : len(ids) - k * 25]
    query = [
        {
            "iteration": iteration,
            "batch_id": f"batch-aged-{k:05d}",
            "strategy": "breaking-ties",
            "id": i,
            "score": -0.1,
            "rank": r,
            "created_at": now,
        }
        for r, i in enumerate(queried)
    ]
    stopping = [
        {
            "iteration": iteration,
            "criterion": "max-iterations",
            "value": float(k),
            "stop": False,
            "reason": "aged",
            "state": "{}",
            "created_at": now,
        }
    ]
    return {
        "label_events": events,
        "ingest_log": log,
        "iterations": [it],
        "query_log": query,
        "stopping": stopping,
    }


def age(ws_path: Path, gold_path: Path, n: int, one_transaction: bool) -> dict[str, Any]:
    """Write ``n`` label files and ``n`` iterations: one transaction each, or all in one."""
    import pandas as pd

    from al_core.storage import Workspace, utcnow

    ws = Workspace.open(ws_path)
    g = pd.read_parquet(gold_path)
    gold = dict(zip(g.id, g.label, strict=True))
    labelled = set(ws.query("SELECT id FROM label_events").id)
    ids = [i for i in ws.query("SELECT id FROM pool WHERE role = 'pool' ORDER BY id").id]
    ids = [i for i in ids if i not in labelled]
    started = time.perf_counter()
    now = utcnow()
    if one_transaction:
        with ws.transaction(kind="bench", what="aged rows in one go") as tx:
            for k in range(n):
                for table, rows in aging_rows(k, gold, ids, now).items():
                    tx.append(table, rows)
    else:
        for k in range(n):
            rows = aging_rows(k, gold, ids, now)
            with ws.transaction(kind="labels", what=f"aged label file {k}") as tx:
                tx.append("label_events", rows["label_events"])
                tx.append("ingest_log", rows["ingest_log"])
            with ws.transaction(kind="iteration", what=f"aged iteration {k}") as tx:
                for table in ("iterations", "query_log", "stopping"):
                    tx.append(table, rows[table])
    return {
        "transactions": 1 if one_transaction else 2 * n,
        "seconds": time.perf_counter() - started,
    }


def copy_workspace(src: Path, dst: Path) -> None:
    """A copy whose Parquet data files are hard links (they are never rewritten in place)."""

    def link_or_copy(a: str, b: str) -> None:
        if a.endswith(".parquet"):
            os.link(a, b)
        else:
            shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link_or_copy)


# -- the measurements --------------------------------------------------------------------------


def iterate(ws: Path, env: dict[str, str]) -> dict[str, Any]:
    # --force: retrain even when no label arrived since the last run (the runs compared here
    # must all train and query).
    return iterate_with_summary(ws, env, "--force")[0]


def iterate_with_summary(
    ws: Path, env: dict[str, str], *flags: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One ``alflow iterate WS --json [flags]`` in a fresh process: its figures (wall time, the
    flow's fit, scoring and embedding, the rest as overhead), and its printed summary."""
    r = alflow("iterate", str(ws), "--json", *flags, env=env)
    text = r["stdout"]
    start = text.find("{\n") if not text.startswith("{") else 0
    try:
        summary = json.JSONDecoder().raw_decode(text[max(start, 0) :])[0]
    except json.JSONDecodeError:
        raise RuntimeError(f"alflow iterate printed no JSON summary:\n{text[:2000]}") from None
    t = summary.get("timings", {})
    scoring = summary.get("scoring", {})
    embedding = summary.get("embedding", {}) or {}
    fit = t.get("fit_seconds", 0.0)
    score = scoring.get("compute_seconds", 0.0)
    embed = embedding.get("embed_seconds", 0.0)
    overhead = r["seconds"] - fit - score - embed
    figures = {
        "status": summary["status"],
        "seconds": r["seconds"],
        "peak_rss_mb": r["peak_rss_mb"],
        "peak_tree_rss_mb": r["peak_tree_rss_mb"],
        "fit_seconds": fit,
        "scoring_compute_seconds": score,
        "scoring_read_seconds": scoring.get("read_seconds"),
        "embedding_seconds": embed,
        "overhead_seconds": round(overhead, 3),
        "overhead_fraction": round(overhead / r["seconds"], 3),
        "flow_seconds": t.get("flow_seconds"),
        "steps": t,
        "scoring": scoring,
        "n_labeled": summary.get("n_labeled"),
    }
    return figures, summary


@contextlib.contextmanager
def prefect_server(home: Path, env: dict[str, str]):
    """A ``prefect server start`` on loopback for the block (the production setup: no
    temporary server per command); yields the environment that points at it."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server_env = {**env, "PREFECT_HOME": str(home)}
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "server.log", "ab")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=server_env,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (home / "server.log").read_text(errors="replace")[-3000:]
                    why = (
                        f"exited with code {proc.returncode}"
                        if proc.poll() is not None
                        else "did not answer /health within 180 s"
                    )
                    raise RuntimeError(
                        f"the Prefect server {why}; its log ({home / 'server.log'}) ends:\n{tail}"
                    ) from None
                time.sleep(0.5)
        yield {**server_env, "PREFECT_API_URL": url}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def status_work(ws: Path, env: dict[str, str]) -> dict[str, float]:
    """``alflow status``'s imports and its own work, timed inside one fresh process."""
    code = (
        "import time, json; t0 = time.perf_counter()\n"
        "import flows.cli; from al_core.pipeline import pipeline_status\n"
        "from al_core.storage import Workspace\n"
        f"t1 = time.perf_counter(); pipeline_status(Workspace.open({str(ws)!r})); t2 = time.perf_counter()\n"
        "print(json.dumps({'import_seconds': t1 - t0, 'work_seconds': t2 - t1}))"
    )
    return json.loads(run([sys.executable, "-c", code], env=env)["stdout"])


def status(ws: Path, env: dict[str, str], repeats: int) -> dict[str, Any]:
    cmd = [sys.executable, "-c", "from flows.cli import main; main()", "status", str(ws)]
    return median_run(cmd, repeats, env=env)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--eval", type=int, default=2000)
    ap.add_argument("--labels", type=int, default=1000, help="labels imported before training")
    ap.add_argument("--aged", type=int, default=1000, help="label files and iterations to age")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the workspaces here")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    root, env, tmp = bench_folder(args.workdir, "alflow-scale-")
    src, ws, fresh = root / "src", root / "ws", root / "ws-fresh"
    for p in (src, ws, fresh, root / "prefect"):
        shutil.rmtree(p, ignore_errors=True)
    src.mkdir()
    out: dict[str, Any] = {
        "benchmark": "scale",
        "items": args.items,
        "eval_items": args.eval,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_before": load(),
    }

    def step(name: str, value: Any) -> Any:
        out[name] = value
        print(f"{name}: {json.dumps(value, default=str)[:300]}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")  # partial results
        return value

    step(
        "bare_import",
        median_run(
            [sys.executable, "-c", "import pandas, duckdb, pyarrow.parquet"], args.repeats, env
        ),
    )
    step("sources", write_sources(src, args.items, args.eval, args.seed))
    alflow("init", str(ws), "--labels", ",".join(LABELS), env=env)
    from al_core.storage import Workspace

    w = Workspace.open(ws)
    w.config.active_learning.max_iterations = 10**9  # the aged workspace must not stop
    w.config.active_learning.min_new_labels = 1
    # kappa-average would stop a loop whose labels never change; every iterate must query.
    w.config.active_learning.stopping = ["max-iterations"]
    w.save_config()
    ingest = alflow("ingest", str(ws), str(src / "pool.parquet"), "--json", env=env)
    step("ingest", {k: ingest[k] for k in ("seconds", "peak_rss_mb")})
    alflow(
        "ingest",
        str(ws),
        str(src / "eval.parquet"),
        "--role",
        "eval",
        "--label-column",
        "label",
        env=env,
    )
    step("embeddings", write_embeddings(ws, src / "gold.parquet", args.seed))

    import pandas as pd

    gold = pd.read_parquet(src / "gold.parquet").iloc[: args.items]
    gold.sample(args.labels, random_state=args.seed).to_csv(src / "labels.csv", index=False)
    step(
        "import_labels",
        {
            k: alflow("import-labels", str(ws), str(src / "labels.csv"), env=env)[k]
            for k in ("seconds", "peak_rss_mb")
        },
    )
    # The first flow on a machine also creates and migrates Prefect's database (a one-off);
    # the second is the iteration a team runs again and again.
    step("iterate_first", iterate(ws, env))
    step("iterate_second", iterate(ws, env))
    step("status_fresh_start", status(ws, env, args.repeats))
    step("status_work", status_work(ws, env))
    with prefect_server(root / "prefect-server", env) as server_env:
        step("iterate_with_server", iterate(ws, server_env))

    copy_workspace(ws, fresh)
    step("aging", age(ws, src / "gold.parquet", args.aged, one_transaction=False))
    step("aging_fresh_copy", age(fresh, src / "gold.parquet", args.aged, one_transaction=True))
    # Interleaved, so a change of the machine's load hits both alike.
    aged_runs, fresh_runs = [], []
    for _ in range(args.repeats):
        aged_runs.append(status(ws, env, 1)["seconds"])
        fresh_runs.append(status(fresh, env, 1)["seconds"])
    step("status_aged", {"seconds": statistics.median(aged_runs), "runs": aged_runs})
    step("status_fresh", {"seconds": statistics.median(fresh_runs), "runs": fresh_runs})
    step("status_work_aged", status_work(ws, env))
    step("status_work_fresh", status_work(fresh, env))
    step("iterate_aged", iterate(ws, env))
    step("iterate_fresh", iterate(fresh, env))
    out["load_after"] = load()

    bare = out["bare_import"]["seconds"]
    it = out["iterate_second"]
    targets = [
        ("status_vs_bare_import", out["status_fresh_start"]["seconds"] / bare, 2.0),
        ("status_seconds", out["status_fresh_start"]["seconds"], 2.0),
        ("import_1000_labels_seconds", out["import_labels"]["seconds"], 5.0),
        ("ingest_seconds", out["ingest"]["seconds"], 300.0),
        ("iteration_overhead_fraction", it["overhead_fraction"], 0.10),
        ("iteration_overhead_seconds", it["overhead_seconds"], 30.0),
        (
            "iteration_overhead_seconds_new_prefect_database",
            out["iterate_first"]["overhead_seconds"],
            30.0,
        ),
        (
            "iteration_overhead_fraction_prefect_server",
            out["iterate_with_server"]["overhead_fraction"],
            0.10,
        ),
        ("iteration_peak_rss_gb", it["peak_rss_mb"] / 1024, 4.0),
        (
            "aged_vs_fresh_status",
            out["status_aged"]["seconds"] / out["status_fresh"]["seconds"],
            1.5,
        ),
        (
            "aged_vs_fresh_status_work",
            out["status_work_aged"]["work_seconds"] / out["status_work_fresh"]["work_seconds"],
            1.5,
        ),
        (
            "aged_vs_fresh_iterate",
            out["iterate_aged"]["seconds"] / out["iterate_fresh"]["seconds"],
            1.5,
        ),
    ]
    out["targets"] = [
        {"target": name, "measured": round(value, 3), "limit": limit, "met": value < limit}
        for name, value, limit in targets
    ]
    print("\n{:<30} {:>10} {:>8}  met".format("target", "measured", "limit"))
    for t in out["targets"]:
        print(f"{t['target']:<30} {t['measured']:>10} {t['limit']:>8}  {t['met']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return out


if __name__ == "__main__":
    main()
