"""Shared fixtures of the integration tests (flows under a real Prefect test server)."""

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    """A temporary Prefect server and database for the whole session (started on first use).

    Only tests that request it pay the start-up (about 8 s); every flow they call runs
    against it and lands in its database, which is thrown away at the end of the session.
    """
    from prefect.testing.utilities import prefect_test_harness

    # None: wait as long as PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (tests/conftest.py);
    # the harness migrates a fresh database, which alone can take a minute on a busy machine.
    with prefect_test_harness(server_startup_timeout=None):
        yield
