"""Where the iteration flow's partition tasks run: local threads, or a Dask cluster.

Embedding and scoring of the pool are mapped over partitions (``tasks/partitions.py``); the
flow reads the address from its ``dask_address`` parameter or, unset, from the workspace's
``dask_address`` setting, so a scheduled deployment run honours the setting as ``alflow
iterate`` does (:class:`PartitionRunner`):

* no address: the flow's own thread pool in this process (:data:`LOCAL_THREADS` at a time);
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
from collections.abc import Iterator
from typing import Any

from al_core.errors import ConfigError

LOCAL_THREADS = 2
SCHEDULER_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "inproc://")


def check_dask_address(dask_address: str | None) -> None:
    """Fail with one line on an address that is no scheduler address, or without the extra."""
    if not dask_address:
        return
    if dask_address != "local" and not dask_address.startswith(SCHEDULER_SCHEMES):
        raise ConfigError(
            f"dask address {dask_address!r} is not a scheduler address such as "
            "tcp://host:8786 (or 'local' for a cluster on this machine)"
        )
    _dask_runner_class()


def _dask_runner_class():
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError(
            "the Dask task runner needs the 'dask' extra: pip install 'alflow[dask]'"
        ) from None
    return DaskTaskRunner


def prefect_api_url() -> str:
    """The API of the running flow: ``PREFECT_API_URL`` (set by :mod:`flows.prefect_api` for
    the CLI's commands), else Prefect's own temporary server (the flow was called from Python
    without a configured API)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if url:
        return str(url)
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    return server.api_url


@contextlib.contextmanager
def _dask_runner(dask_address: str, workers: int = 2) -> Iterator[Any]:
    """The Dask task runner for a checked ``dask_address`` (see the module docstring); a
    ``local`` cluster is closed on exit."""
    runner_class = _dask_runner_class()
    if dask_address != "local":
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


class PartitionRunner(contextlib.AbstractContextManager):
    """Maps a flow's partition tasks: on the flow's own task runner when ``dask_address`` is
    empty, else on the Dask runner for it, started on first use (an iteration that embeds and
    scores nothing starts no cluster) and closed when this context exits."""

    def __init__(self, dask_address: str | None) -> None:
        check_dask_address(dask_address)
        self.dask_address = dask_address or None
        self._stack = contextlib.ExitStack()
        self._runner: Any = None

    def map(self, task: Any, **parameters: Any) -> list[Any]:
        """Run ``task`` once per item of its list parameters (wrap the others in
        ``prefect.unmapped``) and return the results in order."""
        if self.dask_address is None:
            futures = task.map(**parameters)
        else:
            if self._runner is None:
                runner = self._stack.enter_context(_dask_runner(self.dask_address))
                self._runner = self._stack.enter_context(runner)
            futures = self._runner.map(task, parameters)
        return [f.result() for f in futures]

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._stack.__exit__(*exc_info)
