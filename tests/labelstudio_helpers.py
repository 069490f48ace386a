"""A scripted annotator: answers tasks through Label Studio's REST API, as people would."""

from __future__ import annotations

import json
from typing import Any

import httpx


class Annotator:
    """Talks to Label Studio as the admin; ``as_user`` records an annotation for another user."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60
        )

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 400, f"{response.request.url}: {response.text[:300]}"
        return response.json() if response.content else None

    def create_user(self, email: str) -> int:
        found = [u for u in self._ok(self.http.get("/api/users/")) if u["email"] == email]
        if found:
            return int(found[0]["id"])
        body = {"email": email, "username": email.split("@")[0], "password": "annotator-pass-1"}
        return int(self._ok(self.http.post("/api/users/", json=body))["id"])

    def project(self, pid: int) -> dict[str, Any]:
        return self._ok(self.http.get(f"/api/projects/{pid}/"))

    def tasks(self, pid: int) -> list[dict[str, Any]]:
        out, page = [], 1
        while True:
            r = self.http.get(
                "/api/tasks/",
                params={"project": pid, "fields": "all", "page": page, "page_size": 100},
            )
            if r.status_code == 404:
                return out
            batch = self._ok(r)["tasks"]
            out += batch
            if len(batch) < 100:
                return out
            page += 1

    def task_of(self, pid: int) -> dict[str, dict[str, Any]]:
        """alflow id -> task, for the tasks of regular batches (not review batches)."""
        return {
            t["data"]["alflow_id"]: t
            for t in self.tasks(pid)
            if t["data"].get("alflow_batch", "").startswith("batch-")
        }

    def annotate(self, task_id: int, labels: list[str], user: int | None = None) -> dict:
        body: dict[str, Any] = {
            "result": [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": list(labels)},
                }
            ]
        }
        if user is not None:
            body["completed_by"] = user
        return self._ok(self.http.post(f"/api/tasks/{task_id}/annotations/", json=body))

    def skip(self, task_id: int, user: int | None = None) -> dict:
        body: dict[str, Any] = {"result": [], "was_cancelled": True}
        if user is not None:
            body["completed_by"] = user
        return self._ok(self.http.post(f"/api/tasks/{task_id}/annotations/", json=body))

    def relabel(self, annotation_id: int, labels: list[str]) -> dict:
        result = [
            {
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": list(labels)},
            }
        ]
        return self._ok(
            self.http.patch(f"/api/annotations/{annotation_id}/", json={"result": result})
        )

    def dump(self, pid: int) -> str:
        return json.dumps(self.tasks(pid))
