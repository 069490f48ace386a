"""Read what a Prefect server holds, through its API (as the UI does)."""

from __future__ import annotations

import json
from typing import Any

import httpx


def latest_artifact(api_url: str, key: str) -> Any:
    """The data of the newest artifact with ``key`` (tables come back as lists of rows)."""
    r = httpx.post(
        f"{api_url}/artifacts/latest/filter",
        json={"artifacts": {"key": {"any_": [key]}}},
        timeout=30,
    )
    r.raise_for_status()
    found = r.json()
    assert found, f"no artifact {key!r} on {api_url}"
    data = found[0]["data"]
    if found[0]["type"] == "table" and isinstance(data, str):
        return json.loads(data)
    return data


def flow_runs(api_url: str, **filters: Any) -> list[dict[str, Any]]:
    r = httpx.post(f"{api_url}/flow_runs/filter", json=filters, timeout=30)
    r.raise_for_status()
    return r.json()
