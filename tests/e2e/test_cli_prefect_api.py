"""The Prefect API of the flow commands: their own temporary server, or the configured one.

``alflow iterate`` and ``alflow simulate`` start Prefect's temporary server as a child process
early (flows/prefect_api.py) instead of letting Prefect import its server package into the
command's process when the first flow runs; a server named in Prefect's settings still wins.
"""

import json
import os
import subprocess
import sys
import textwrap
import urllib.request

import pandas as pd
import pytest
from cli_helpers import run_alflow

from al_core.errors import AlflowError
from flows import prefect_api
from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.e2e


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_iterate_runs_its_flow_without_importing_prefects_server(tmp_path, prefect_env):
    pd.read_parquet(TREC / "train.parquet").iloc[:40][["text"]].to_csv(
        tmp_path / "pool.csv", index=False
    )
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    run_alflow("ingest", ws, tmp_path / "pool.csv", check=True)
    seen = tmp_path / "modules.json"
    # The CLI in this process; at exit (after the server is stopped) record what was imported.
    r = _python(
        f"""
        import atexit, json, sys
        atexit.register(lambda: open({str(seen)!r}, "w").write(json.dumps(
            sorted(m for m in sys.modules if m.startswith("prefect.server.api")))))
        sys.argv = ["alflow", "iterate", {str(ws)!r}, "--json", "--batch-size", "5"]
        from flows.cli import main
        main()
        """,
        prefect_env,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout[r.stdout.index("{") :])
    assert summary["status"] == "initial" and summary["n_queried"] == 5
    assert json.loads(seen.read_text()) == []


def test_the_flow_runs_on_the_early_server_which_stops_at_exit(tmp_path, prefect_env):
    r = _python(
        """
        import json, httpx
        from flows.prefect_api import prefect_api, start_temporary_server
        server = start_temporary_server()
        from prefect import flow

        @flow(name="probe")
        def probe() -> int:
            return 7

        with prefect_api() as url:
            assert url == server.api_url
            value = probe()
        runs = httpx.post(f"{url}/flow_runs/filter", json={}).json()
        print(json.dumps({"url": url, "value": value,
                          "states": [r["state_type"] for r in runs]}))
        """,
        prefect_env,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["value"] == 7 and "COMPLETED" in out["states"]
    with pytest.raises(OSError):  # the process has exited, and its server with it
        urllib.request.urlopen(f"{out['url']}/health", timeout=5)


def test_a_server_in_prefects_settings_wins_over_the_early_one(tmp_path, prefect_env, monkeypatch):
    """A ``PREFECT_API_URL`` from a Prefect profile (not the environment) is used; the server
    started early is stopped again."""
    import httpx

    monkeypatch.setenv("PREFECT_HOME", prefect_env["PREFECT_HOME"])
    configured = prefect_api.TemporaryServer()  # stands for the team's `prefect server start`
    try:
        configured.wait_ready(timeout=300)
        profiles = tmp_path / "profiles.toml"
        profiles.write_text(
            f'active = "team"\n\n[profiles.team]\nPREFECT_API_URL = "{configured.api_url}"\n'
        )
        r = _python(
            """
            import json
            from flows import prefect_api
            early = prefect_api.start_temporary_server()
            from prefect import flow

            @flow(name="probe-profile")
            def probe() -> int:
                return 7

            with prefect_api.prefect_api() as url:
                value = probe()
            print(json.dumps({"url": url, "value": value, "early": early.process.poll(),
                              "server": prefect_api._server is None}))
            """,
            {**prefect_env, "PREFECT_PROFILES_PATH": str(profiles)},
        )
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["url"] is None and out["value"] == 7
        assert out["early"] is not None and out["server"]  # the early server was stopped
        runs = httpx.post(f"{configured.api_url}/flow_runs/filter", json={}, timeout=30).json()
        assert [r["name"] for r in runs if r["state_type"] == "COMPLETED"]
        flows = httpx.post(f"{configured.api_url}/flows/filter", json={}, timeout=30).json()
        assert "probe-profile" in [f["name"] for f in flows]
    finally:
        configured.stop()


def test_a_configured_api_in_the_environment_starts_nothing(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setattr(prefect_api, "_server", None)
    assert prefect_api.start_temporary_server() is None
    assert prefect_api._server is None


def test_a_server_that_cannot_start_fails_with_one_line(tmp_path, monkeypatch):
    # A database in a folder that does not exist: the app's start-up fails.
    monkeypatch.setenv(
        "PREFECT_API_DATABASE_CONNECTION_URL",
        f"sqlite+aiosqlite:///{tmp_path}/missing/folder/prefect.db",
    )
    server = prefect_api.TemporaryServer()
    try:
        with pytest.raises(AlflowError, match="Prefect's temporary server exited with code"):
            server.wait_ready(timeout=300)
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_a_server_that_does_not_answer_in_time_fails_with_one_line(prefect_env, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", prefect_env["PREFECT_HOME"])
    server = prefect_api.TemporaryServer()
    try:
        with pytest.raises(AlflowError, match=r"did not answer within 0 s \(raise "):
            server.wait_ready(timeout=0)
    finally:
        server.stop()
    assert server.process.returncode is not None
