"""A deployment's stored workspace must be absolute (checked before the flow opens it)."""

import pytest

from al_core.errors import ConfigError
from flows.iteration import _check_deployed_path


def test_relative_workspace_is_refused_only_inside_a_deployment(monkeypatch):
    import prefect.runtime.deployment as deployment

    monkeypatch.setattr(deployment, "get_id", lambda: None)
    _check_deployed_path("ws")  # a person running `alflow iterate ws` in a folder: fine
    monkeypatch.setattr(deployment, "get_id", lambda: "3f0c4b2e-0000-4000-8000-000000000000")
    with pytest.raises(ConfigError, match="relative path"):
        _check_deployed_path("ws")
    for ok in ("/data/ws", "s3://bucket/ws", "~/ws"):
        _check_deployed_path(ok)
