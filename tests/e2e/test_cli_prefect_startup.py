"""Commands that run flows must not fail on a slow first Prefect start, nor print tracebacks.

A first ``alflow iterate``/``simulate`` on a machine starts Prefect's temporary server, which
creates and migrates its database before it answers; on a busy 2-core machine that took longer
than Prefect's 20 s default and the command failed (the second run worked). The CLI sets a
longer default that the user's environment can still override.
"""

import os
import subprocess
import sys

import pytest
from cli_helpers import run_alflow

_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
_PROBE = (
    "import flows.cli, prefect.settings as s; "
    "print(s.PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())"
)


def _timeout_seen_by_prefect(**env: str) -> int:
    base = {k: v for k, v in os.environ.items() if k != _SETTING}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(proc.stdout.strip().splitlines()[-1])


def test_cli_gives_prefects_server_a_generous_start_up_time():
    from flows.cli import PREFECT_STARTUP_TIMEOUT_S

    assert _timeout_seen_by_prefect() == int(PREFECT_STARTUP_TIMEOUT_S) >= 120


def test_the_users_start_up_setting_wins():
    assert _timeout_seen_by_prefect(**{_SETTING: "7"}) == 7


def test_a_second_iterate_fails_with_one_line_before_prefect_starts(make_workspace, tmp_path):
    ws = make_workspace()
    with ws.run_lock():  # an iteration in progress, as far as any other process can tell
        r = run_alflow("iterate", ws.path, env={"PREFECT_HOME": str(tmp_path / "prefect")})
    assert r.returncode == 1
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: an iteration is already running on workspace ")
    assert line.endswith("; wait for it to finish")
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "prefect").exists()  # no Prefect server was started


@pytest.mark.parametrize("where", ["option", "config"])
def test_a_bad_dask_address_fails_with_one_line_before_prefect_starts(
    make_workspace, tmp_path, where
):
    ws = make_workspace()
    args = ["iterate", ws.path]
    if where == "option":
        args += ["--dask", "localhost:8786"]
    else:
        ws.config.active_learning.dask_address = "localhost:8786"
        ws.save_config()
    r = run_alflow(*args, env={"PREFECT_HOME": str(tmp_path / "prefect")})
    assert r.returncode == 1
    (line,) = r.stderr.strip().splitlines()
    assert line == (
        "error: dask address 'localhost:8786' is not a scheduler address such as "
        "tcp://host:8786 (or 'local' for a cluster on this machine)"
    )
    assert not (tmp_path / "prefect").exists()  # no Prefect server was started
