"""The task runner of the iteration flow: local threads, or a Dask cluster.

Embedding and scoring of the pool are mapped over partitions (``tasks/partitions.py``); where
those tasks run is the flow's task runner:

* no address: Prefect's thread pool in this process (:data:`LOCAL_THREADS` at a time);
* ``tcp://host:port``: the workers of that Dask cluster (``prefect-dask``, the ``dask`` extra);
  the workers must import alflow, see the workspace's path (a shared folder or an object
  store) and reach the same Prefect API (``PREFECT_API_URL``);
* ``local``: a two-worker ``distributed.LocalCluster`` of processes started for the run; its
  workers are pointed at this process's Prefect API (the temporary server is started first
  when none is configured), so they do not each start their own.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from al_core.errors import ConfigError

LOCAL_THREADS = 2


def _dask_runner_class():
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError(
            "the Dask task runner needs the 'dask' extra: pip install 'alflow[dask]'"
        ) from None
    return DaskTaskRunner


def prefect_api_url() -> str:
    """This process's Prefect API: ``PREFECT_API_URL``, or the temporary server (started now)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if url:
        return str(url)
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    return server.api_url


def start_api_early() -> threading.Thread | None:
    """Start Prefect's temporary server (when no ``PREFECT_API_URL`` is set) in a thread, so
    its start-up (a separate process: several seconds, more on a busy machine) overlaps the
    command's own imports and checks; join the thread (None: nothing started) before the
    flow runs."""

    def start() -> None:
        with contextlib.suppress(Exception):  # the flow's own start reports any failure
            prefect_api_url()

    if os.environ.get("PREFECT_API_URL"):
        return None  # a server is configured: nothing to start
    thread = threading.Thread(target=start, name="prefect-api-start", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def task_runner(dask_address: str | None, workers: int = 2) -> Iterator[Any]:
    """The runner for ``dask_address`` (see the module docstring), closed on exit."""
    from prefect.task_runners import ThreadPoolTaskRunner

    if not dask_address:
        yield ThreadPoolTaskRunner(max_workers=LOCAL_THREADS)
        return
    runner_class = _dask_runner_class()
    if dask_address != "local":
        if not dask_address.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
            raise ConfigError(
                f"dask address {dask_address!r} is not a scheduler address such as "
                "tcp://host:8786 (or 'local' for a cluster on this machine)"
            )
        yield runner_class(address=dask_address)
        return
    from distributed import LocalCluster

    env = {"PREFECT_API_URL": prefect_api_url()}
    for key in ("PREFECT_HOME", "HF_HUB_OFFLINE", "PREFECT_SERVER_ANALYTICS_ENABLED"):
        if key in os.environ:
            env[key] = os.environ[key]
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env=env,
    ) as cluster:
        yield runner_class(address=cluster.scheduler_address)
