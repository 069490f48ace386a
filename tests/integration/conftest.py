"""Shared fixtures of the integration tests (flows under a real Prefect test server)."""

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    """A temporary Prefect server and database for the whole session (started on first use).

    Only tests that request it pay the start-up (about 8 s); every flow they call runs
    against it and lands in its database, which is thrown away at the end of the session.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
