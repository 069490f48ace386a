"""deployments/prefect.yaml served by a real process worker against a real Prefect server.

As docs/OPERATIONS.md says to: connect the workspace to Label Studio, create the work pool,
``prefect deploy`` the yaml with the workspace's absolute path in the environment, start a
worker (the token in its environment), trigger the deployments, answer in Label Studio, trigger
again, and read the runs and their artifacts back through the API. ``alflow serve`` registers
its deployment with the workspace's absolute path and schedule.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from cli_helpers import run_alflow

from tests.conftest import REPO, TREC, TREC_LABELS
from tests.labelstudio_helpers import Annotator
from tests.prefect_helpers import flow_runs, latest_artifact

pytestmark = pytest.mark.e2e

PREFECT = Path(sys.executable).with_name("prefect")


def _prefect(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [str(PREFECT), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode == 0, f"prefect {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r


def _wait_for_run(api: str, run_id: str, timeout: float = 400) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json()
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {run_id} did not finish in {timeout} s")


def _trigger(api: str, deployment: str, env: dict) -> dict:
    r = _prefect("deployment", "run", deployment, env=env)
    run_id = next(
        line.split("UUID:")[1].strip() for line in r.stdout.splitlines() if "UUID:" in line
    )
    return _wait_for_run(api, run_id)


def train_ids() -> list[str]:
    return [f"q{i:04d}" for i in range(150)]


def train_labels() -> list[str]:
    return pd.read_parquet(TREC / "train.parquet").label.iloc[:150].tolist()


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory, label_studio):
    """150 TREC-6 questions, connected to Label Studio (shared: the serve test runs nothing)."""
    tmp_path = tmp_path_factory.mktemp("deploy")
    train = pd.read_parquet(TREC / "train.parquet").iloc[:150].reset_index(drop=True)
    train["id"] = train_ids()
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    run_alflow("ingest", ws, tmp_path / "pool.csv", check=True)
    env = {"LABEL_STUDIO_API_KEY": label_studio.token}
    run_alflow("connect", ws, "--label-studio", label_studio.url, env=env, check=True)
    cfg = json.loads((ws / "alflow.json").read_text())
    cfg["active_learning"].update(classifier="logreg", batch_size=12, min_new_labels=10)
    (ws / "alflow.json").write_text(json.dumps(cfg))
    return ws


def test_prefect_yaml_deployment_served_by_a_worker(tmp_path, small_ws, prefect_api, label_studio):
    inbox = tmp_path / "incoming"
    inbox.mkdir()
    env = {
        **os.environ,
        "LABEL_STUDIO_API_KEY": label_studio.token,
        "PREFECT_API_URL": prefect_api.url,
        "PREFECT_HOME": str(tmp_path / "prefect-client"),
        "ALFLOW_PROJECT_DIR": str(REPO),
        "ALFLOW_WORKSPACE": str(small_ws.resolve()),
        "ALFLOW_INBOX": str(inbox.resolve()),
        "ALFLOW_CRON": "0 3 * * *",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    _prefect("work-pool", "create", "alflow-process", "--type", "process", "--overwrite", env=env)
    _prefect(
        "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml", env=env
    )
    deployment = httpx.get(
        f"{prefect_api.url}/deployments/name/alflow-iteration/scheduled", timeout=30
    ).json()
    assert deployment["parameters"] == {"workspace": str(small_ws.resolve())}
    assert deployment["schedules"][0]["schedule"]["cron"] == "0 3 * * *"
    assert deployment["work_pool_name"] == "alflow-process"

    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [str(PREFECT), "worker", "start", "--pool", "alflow-process"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        run = _trigger(prefect_api.url, "alflow-iteration/scheduled", env)
        worker_log = (tmp_path / "worker.log").read_text(errors="replace")
        assert run["state_type"] == "COMPLETED", worker_log[-3000:]
        from al_core.pipeline import workspace_key

        key = workspace_key(str(small_ws.resolve()))
        assert run["name"] == f"{key}-iteration-1"
        assert {f"workspace:{key}", "iteration:1", "mode:initial"} <= set(run["tags"])
        markdown = latest_artifact(prefect_api.url, f"{key}-iteration")
        assert "iteration 1 initial" in markdown and "No model trained yet." in markdown
        budget = httpx.post(
            f"{prefect_api.url}/artifacts/latest/filter",
            json={"artifacts": {"key": {"any_": [f"{key}-label-budget"]}}},
            timeout=30,
        ).json()
        assert budget and budget[0]["type"] == "progress"
        pid = json.loads((small_ws / "alflow.json").read_text())["queue"]["project_id"]
        ls = Annotator(label_studio.url, label_studio.token)
        tasks = ls.task_of(pid)
        assert len(tasks) == 12  # the worker's run sent the batch to Label Studio

        # Annotators answer in Label Studio; the next deployed run pulls, trains, sends more.
        gold = dict(zip(train_ids(), train_labels(), strict=True))
        for item, task in tasks.items():
            ls.annotate(task["id"], [gold[item]])
        run = _trigger(prefect_api.url, "alflow-iteration/scheduled", env)
        assert run["state_type"] == "COMPLETED", run["state"]["message"]
        assert run["name"] == f"{key}-iteration-2"
        curve = latest_artifact(prefect_api.url, f"{key}-learning-curve")
        assert [(r["iteration"], r["labels"]) for r in curve] == [(2, 12)]
        assert len(ls.task_of(pid)) == 24
        ls.close()

        # The folder-watching ingest deployment picks up a dropped file.
        more = pd.read_parquet(TREC / "train.parquet").iloc[150:180]
        more.assign(id=[f"m{i}" for i in range(len(more))])[["id", "text"]].to_csv(
            inbox / "more.csv", index=False
        )
        run = _trigger(prefect_api.url, "alflow-ingest-folder/watch-folder", env)
        assert run["state_type"] == "COMPLETED"
        assert (inbox / "ingested" / "more.csv").is_file() and not (inbox / "more.csv").exists()
        st = json.loads(run_alflow("status", small_ws, "--json", check=True).stdout)
        assert st["pool_size"] == 180 and st["labelled"] == 12
        runs = flow_runs(prefect_api.url, flow_runs={"tags": {"all_": [f"workspace:{key}"]}})
        assert runs
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # the worker ignores the first SIGTERM ...
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)  # ... so it is then killed
            worker.wait(timeout=10)
        log.close()


def test_alflow_serve_registers_absolute_workspace_and_schedule(
    tmp_path, small_ws, prefect_api, monkeypatch
):
    monkeypatch.chdir(small_ws.parent)
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api.url,
        "PREFECT_HOME": str(tmp_path / "prefect-client"),
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("alflow")), "serve", "ws", "--cron", "0 3 1 1 *"],
        env=env,
        cwd=small_ws.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    from al_core.pipeline import workspace_key

    name = f"alflow-iteration/{workspace_key(str(small_ws.resolve()))}"
    try:
        deadline = time.monotonic() + 300
        while True:
            r = httpx.get(f"{prefect_api.url}/deployments/name/{name}", timeout=30)
            if r.status_code == 200:
                break
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "alflow serve registered no deployment"
            time.sleep(1)
        deployment = r.json()
        assert deployment["parameters"]["workspace"] == str(small_ws.resolve())
        assert deployment["schedules"][0]["schedule"]["cron"] == "0 3 1 1 *"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
