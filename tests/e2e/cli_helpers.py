"""Run the real ``alflow`` console script in a subprocess."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ALFLOW = Path(sys.executable).with_name("alflow")


def run_alflow(*args, env=None, check=False, timeout=600):
    """Run ``alflow ARGS``; returns a CompletedProcess with text stdout/stderr.

    The command runs in its own process group, which is killed afterwards: a command that
    dies (e.g. from a crash point) can leave children behind, such as Prefect's temporary
    server, and they must not outlive the test.
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [str(ALFLOW), *map(str, args)],
            stdout=out,
            stderr=err,
            text=True,
            env=full_env,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(proc.args, code, out.read(), err.read())
    if check and result.returncode != 0:
        raise AssertionError(f"alflow {args} failed ({result.returncode}):\n{result.stderr}")
    return result


def status_json(ws):
    return json.loads(run_alflow("status", ws, "--json", check=True).stdout)
