"""The README's main job: set up a workspace on the embedded TREC-6 data and report on it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "trec6"
LABELS = "ABBR,DESC,ENTY,HUM,LOC,NUM"


def main(out_dir: Path | None = None) -> int:
    from flows.cli import app

    out_dir = out_dir or Path(os.environ.get("ALFLOW_DEMO_DIR", REPO / ".alflow" / "demo"))
    ws = out_dir / "workspace"
    steps = [
        ["init", str(ws), "--labels", LABELS] if not (ws / "alflow.json").exists() else None,
        ["ingest", str(ws), str(DATA / "train.parquet"), "--label-column", "label"],
        ["ingest", str(ws), str(DATA / "test.parquet"), "--role", "eval"],
        ["status", str(ws)],
    ]
    for args in filter(None, steps):
        print(f"$ alflow {' '.join(args)}", flush=True)
        try:
            app(args, standalone_mode=False)
        except SystemExit as exc:  # typer.Exit from a failed step
            if exc.code:
                return int(exc.code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
