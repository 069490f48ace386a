"""The README's main job (``make demo``): the embedded TREC-6 data, end to end.

1. Workspace: create one, ingest the training file with its labels and the test file as the
   evaluation set, show the status (a few seconds).
2. Simulation: breaking-ties (the workspace default) and least-confidence against the random
   baseline with the default setup
   (``embedding-logreg`` on MiniLM embeddings; 25 initial labels, 20 rounds of 25, 3 seeds),
   run as the ``alflow-simulate`` Prefect flow. It ends with the results table and the path
   of the report.

Outputs go under ``$ALFLOW_DEMO_DIR`` (default ``.alflow/demo``): ``workspace/`` and
``simulation/``. Embeddings are cached in ``$ALFLOW_EMBEDDING_CACHE`` (default
``.alflow/cache/embeddings``), so a second run does not embed again.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "trec6"
LABELS = "ABBR,DESC,ENTY,HUM,LOC,NUM"
SIMULATION = {
    "strategy": "breaking-ties,least-confidence",
    "classifier": "embedding-logreg",
    "embedder": "minilm",
    "initial": 25,
    "batch-size": 25,
    "iterations": 20,
    "seeds": 3,
}


def _header(title: str) -> None:
    line = "=" * 78
    print(f"\n{line}\n{title}\n{line}", flush=True)


def _run(app, args: list[str]) -> int:
    """Run one ``alflow`` command in this process, echoing it; return its exit code.

    An unexpected exception is reported on one line (exit code 1) so that the demo can go on
    with its other section; set ``ALFLOW_DEBUG=1`` for the traceback.
    """
    print(f"$ alflow {' '.join(args)}", flush=True)
    try:
        code = app(args, standalone_mode=False)  # a failed step returns its exit code
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - reported, and the exit code says it failed
        if os.environ.get("ALFLOW_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def main(out_dir: Path | None = None, cache_dir: Path | None = None) -> int:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from flows.cli import app

    out_dir = Path(out_dir or os.environ.get("ALFLOW_DEMO_DIR", REPO / ".alflow" / "demo"))
    cache_dir = Path(
        cache_dir
        or os.environ.get("ALFLOW_EMBEDDING_CACHE", REPO / ".alflow" / "cache" / "embeddings")
    )
    ws = out_dir / "workspace"
    sim = out_dir / "simulation"
    start = time.perf_counter()

    _header("1/2  Workspace: the TREC-6 questions as a labelling pool")
    steps = [
        ["init", str(ws), "--labels", LABELS] if not (ws / "alflow.json").exists() else None,
        ["ingest", str(ws), str(DATA / "train.parquet"), "--label-column", "label"],
        ["ingest", str(ws), str(DATA / "test.parquet"), "--role", "eval"],
        ["status", str(ws)],
    ]
    workspace_code = 0
    for args in filter(None, steps):
        if workspace_code := _run(app, args):
            print(
                f"The workspace step failed (exit {workspace_code}); going on with the "
                f"simulation, which does not use the workspace. To start afresh, remove {ws}.",
                flush=True,
            )
            break
    workspace_s = time.perf_counter() - start

    _header(
        "2/2  Simulation: which query strategy needs fewest labels? "
        f"({SIMULATION['strategy'].replace(',', ', ')} vs random)"
    )
    print(
        "Gold labels play the annotator: each run starts from "
        f"{SIMULATION['initial']} random labels, then asks for {SIMULATION['batch-size']} more "
        f"per round for {SIMULATION['iterations']} rounds, scoring the test set each time "
        f"({SIMULATION['seeds']} seeds). The first run embeds about 6k texts with MiniLM "
        "(30-60 s on 2 CPU cores); later runs read them from the cache.",
        flush=True,
    )
    args = [
        "simulate",
        "--train",
        str(DATA / "train.parquet"),
        "--test",
        str(DATA / "test.parquet"),
        "--out",
        str(sim),
        "--cache-dir",
        str(cache_dir),
    ]
    for key, value in SIMULATION.items():
        args += [f"--{key}", str(value)]
    t0 = time.perf_counter()
    if code := _run(app, args):
        return code
    simulation_s = time.perf_counter() - t0

    _header("Done")
    print(
        f"workspace steps {workspace_s:.1f} s, simulation {simulation_s:.1f} s, "
        f"total {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    print(f"Report: {sim / 'report.md'}  (learning curve: {sim / 'learning_curve.png'})")
    print(f"Workspace: {ws}  (try `alflow status {ws}`)")
    if workspace_code:
        print("The workspace section failed (see above); the exit code says so.", flush=True)
    return workspace_code


if __name__ == "__main__":
    sys.exit(main())
