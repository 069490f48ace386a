"""Run the real ``alflow`` console script in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

ALFLOW = Path(sys.executable).with_name("alflow")


def run_alflow(*args, env=None, check=False, timeout=600):
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(ALFLOW), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"alflow {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def status_json(ws):
    return json.loads(run_alflow("status", ws, "--json", check=True).stdout)
