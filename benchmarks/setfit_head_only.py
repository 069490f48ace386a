"""A SetFit round that refits only the head, timed for this checkout against another one.

Most rounds of a SetFit loop refit only the head (16 of 21 with the defaults), so what such a
round costs beyond its work is most of what a SetFit user waits for. This script takes a
workspace left by ``overhead_10k.py --classifiers setfit --workdir DIR`` (AG News's 10k pool,
SetFit trained and the last batch exported), answers part of the pending batch (fewer labels
than the next body fine-tune needs), and times one ``alflow iterate --json`` on a fresh copy
of that workspace, alternately with this checkout's code and with ``--baseline`` (another
checkout, e.g. ``git worktree add /tmp/old <commit>``), ``--repeats`` times each, against
one running Prefect server. Every timed round must have refitted only the head.

    python benchmarks/overhead_10k.py --classifiers setfit --rounds 3 --workdir /tmp/oh10k
    python benchmarks/setfit_head_only.py --workdir /tmp/oh10k --baseline /tmp/old

Prints and saves ``benchmarks/results/setfit_head_only.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from scale import iterate_with_summary, load, prefect_server  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "setfit_head_only.json"


def prepare(source: Path, target: Path, gold: dict[str, str], answers: int) -> int:
    """Copy the workspace and answer the first ``answers`` items of its pending batch."""
    import pandas as pd

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    inbox = target / "queue" / "inbox"
    for old in inbox.glob("*.csv"):  # the answers overhead_10k.py left for its next round
        old.unlink()
    batch = sorted((target / "queue" / "outbox").glob("batch-*.json"))[-1]
    ids = [t["data"]["id"] for t in json.loads(batch.read_text())][:answers]
    pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(
        inbox / "answers.csv", index=False
    )
    return len(ids)


def timed_round(ws: Path, env: dict[str, str]) -> dict[str, Any]:
    figures, summary = iterate_with_summary(ws, env)
    if figures["status"] != "completed":
        raise RuntimeError(f"{ws}: the round ended {figures['status']}: {summary.get('message')}")
    meta = json.loads(
        (ws / "models" / f"iter-{summary['iteration']:04d}" / "meta.json").read_text()
    )
    if meta["train_info"]["body_trained"]:
        raise RuntimeError(f"{ws}: the body was fine-tuned; answer fewer items (--answers)")
    figures["steps"] = summary.get("timings", {})
    figures["n_labeled"] = summary.get("n_labeled")
    figures["accuracy"] = summary.get("accuracy")
    return figures


def code_env(env: dict[str, str], checkout: Path) -> dict[str, str]:
    """The environment whose ``alflow`` imports ``checkout``'s code (before the installed one);
    checked, since the working directory, when it is a checkout, would come first."""
    env = {**env, "PYTHONPATH": str(checkout)}
    probe = subprocess.run(
        [sys.executable, "-c", "import al_core; print(al_core.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    if not Path(probe.stdout.strip()).is_relative_to(checkout):
        raise RuntimeError(f"alflow imports {probe.stdout.strip()}, not {checkout}'s code")
    return env


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="overhead_10k.py's --workdir")
    ap.add_argument("--baseline", type=Path, required=True, help="another checkout to compare")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--answers", type=int, default=15)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.workdir = args.workdir.resolve()
    args.out = args.out.resolve()

    source = args.workdir / "ws-setfit"
    g = pd.read_parquet(args.workdir / "src" / "gold.parquet")
    gold = dict(zip(g.id, g.label, strict=True))
    base_env = {**os.environ, "PREFECT_HOME": str(args.workdir / "prefect"), "HF_HUB_OFFLINE": "1"}
    checkouts = {"this": REPO, "baseline": args.baseline.resolve()}
    commits = {
        name: subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        for name, path in checkouts.items()
    }
    out: dict[str, Any] = {
        "benchmark": "setfit_head_only",
        "commits": commits,
        "answers": args.answers,
        "load_before": load(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rounds": {name: [] for name in checkouts},
    }
    os.chdir(args.workdir)  # not a checkout: `python -c` puts the working directory first
    copy = args.workdir / "ws-head-only"
    with prefect_server(args.workdir / "prefect-server", base_env) as env:
        for k in range(args.repeats):
            for name, path in checkouts.items():
                prepare(source, copy, gold, args.answers)
                figures = timed_round(copy, code_env(env, path))
                figures["load"] = load()
                out["rounds"][name].append(figures)
                print(f"  {name} ({commits[name]}) #{k + 1}: {json.dumps(figures)[:300]}")
    shutil.rmtree(copy, ignore_errors=True)
    out["median_seconds"] = {
        name: round(statistics.median(r["seconds"] for r in rounds), 3)
        for name, rounds in out["rounds"].items()
    }
    out["load_after"] = load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["median_seconds"]))
    return out


if __name__ == "__main__":
    main()
