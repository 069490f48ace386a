"""An annotation queue on a Label Studio server, through its REST API.

One Label Studio project per workspace, created from the workspace's label set (single- or
multi-label choices). Each batch is imported as tasks with the model's predictions; labels are
pulled back at the start of each iteration, so a scheduled run sees the work annotators did
since the last one, and no file is moved by hand.

What the server does, measured against Label Studio 1.23.2:

* Importing tasks with predictions sets the project's ``model_version`` only while it is empty;
  later batches from newer models keep the first version, and Label Studio then shows no
  pre-annotations for them. :meth:`LabelStudioQueue.export_batch` therefore PATCHes the
  project's ``model_version`` to the batch's model right after importing it (the server
  refuses, HTTP 400, a version that no prediction of the project has yet).
* Creating or editing an annotation (and a skip, which is an annotation with
  ``was_cancelled``) moves its task's ``updated_at``. There is no "annotations changed since"
  call, so a pull lists the tasks with ``updated_at`` after the last pull's newest one (less
  :data:`PULL_OVERLAP`, for writes that commit late; re-read annotations are recognised by
  their id and version and add nothing) and reads their annotations.
* Annotations name their annotator by numeric user id (``completed_by``); alflow records the
  user's e-mail (from ``/api/users/``), so the label history does not depend on one server's
  ids.

**Exactly once.** The batch is first recorded in the workspace (``queue/outbox/<batch>.json``,
as the file queue writes it), then imported. Before importing, the tasks of the batch that the
server already holds (found by ``data.alflow_batch``) are listed and only the missing ones are
sent, so a retry after a timeout, a crash or a Label Studio restart neither loses nor
duplicates a task. The queue's own state (project id, task ids per batch, withdrawn items, the
pull position) is ``queue/labelstudio.json`` in the workspace; it holds no secret.

**The token** comes from ``token_source`` (the environment variable or the Prefect Secret block
named in the workspace config, see :func:`token_source_for`) and is never written anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from al_core.labels import LabelSet
from al_core.queues.base import REVIEW_PREFIX, AnnotationQueue, ExportBatch, LabelDelivery
from al_core.queues.file_queue import FileQueue
from al_core.queues.labelstudio_client import (
    LabelStudioClient,
    LabelStudioError,
    LabelStudioUnavailable,
)
from al_core.queues.labelstudio_format import ID_FIELD, label_config, to_ls_tasks

STATE_KEY = "labelstudio.json"
BATCH_FIELD = "alflow_batch"  # task data field naming the batch, to find a batch's tasks
SOURCE = "label-studio"  # the source tag of label events pulled from the server
PULL_OVERLAP = timedelta(minutes=2)


def token_source_for(
    token_env: str, token_block: str | None, secrets: Callable[[str], str] | None = None
) -> Callable[[], str]:
    """Where the API token is read when first needed: ``$token_env``, else a Secret block.

    ``secrets`` reads a Prefect Secret block by name (the Prefect layer passes it in; the
    library does not import Prefect).
    """

    def read() -> str:
        value = os.environ.get(token_env, "").strip()
        if value:
            return value
        if token_block:
            if secrets is None:
                raise LabelStudioError(
                    f"the Label Studio token is not in ${token_env}, and the Prefect Secret "
                    f"block {token_block!r} can only be read through Prefect (alflow iterate, "
                    "a deployment)"
                )
            value = (secrets(token_block) or "").strip()
            if value:
                return value
            raise LabelStudioError(f"the Prefect Secret block {token_block!r} is empty")
        raise LabelStudioError(
            f"no Label Studio API token: set ${token_env} (or store it in a Prefect Secret "
            "block and name it with `alflow connect --token-block NAME`)"
        )

    return read


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LabelStudioQueue(AnnotationQueue):
    """An :class:`AnnotationQueue` on a Label Studio project (created on first use).

    ``location`` is the workspace's queue folder (a :class:`~al_core.storage.Location`): the
    batches are recorded there and label files dropped in its ``inbox/`` are imported too.
    """

    name: ClassVar[str] = "label-studio"
    description: ClassVar[str] = (
        "a Label Studio server through its REST API: a project per workspace, batches with "
        "predictions, labels pulled at each iteration"
    )
    source: ClassVar[str] = SOURCE

    def __init__(
        self,
        location: Any,
        url: str,
        label_set: LabelSet,
        token_source: Callable[[], str],
        *,
        title: str,
        project_id: int | None = None,
        timeout_s: float = 30.0,
        retries: int = 4,
        backoff_s: float = 1.0,
    ) -> None:
        self.record = FileQueue(location)  # the batches as exported, and the inbox
        self.location = self.record.location
        self.url = url.rstrip("/")
        self.label_set = label_set
        self.title = title
        self._configured_project = project_id
        self.client = LabelStudioClient(
            self.url, token_source, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s
        )
        self._users: dict[int, str] = {}

    # -- local state ----------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        if self.location.is_file(STATE_KEY):
            state = self.location.read_json(STATE_KEY)
        else:
            state = {}
        state.setdefault("batches", {})
        state.setdefault("withdrawn", {})
        return state

    def _save(self, state: dict[str, Any]) -> None:
        state["url"] = self.url
        self.location.write_json(STATE_KEY, state)

    @property
    def project_id(self) -> int | None:
        """The project's id: from the workspace config, else the one alflow created."""
        if self._configured_project is not None:
            return int(self._configured_project)
        pid = self._state().get("project_id")
        return None if pid is None else int(pid)

    def project_url(self, project_id: int | None = None) -> str:
        pid = self.project_id if project_id is None else project_id
        return f"{self.url}/projects/{pid}" if pid is not None else self.url

    # -- project --------------------------------------------------------------------------
    def ensure_project(self) -> int:
        """The project's id; creates the project (or finds one of our title) when needed."""
        pid = self.project_id
        if pid is not None:
            if self.client.request("GET", f"/api/projects/{pid}/", allow_404=True) is None:
                raise LabelStudioError(
                    f"Label Studio project {pid} does not exist at {self.url}; connect the "
                    "workspace again (`alflow connect`) to create or choose a project"
                )
            return pid
        found = [
            p
            for page in self.client.pages("/api/projects/", {"title": self.title}, "results")
            for p in page
            if p.get("title") == self.title
        ]
        if found:
            pid = int(found[0]["id"])
        else:
            created = self.client.request(
                "POST",
                "/api/projects/",
                json_body={
                    "title": self.title,
                    "label_config": label_config(self.label_set),
                    "description": "Created by alflow: batches chosen by active learning.",
                },
            )
            pid = int(created["id"])
        state = self._state()
        state["project_id"] = pid
        self._save(state)
        return pid

    def _set_model_version(self, pid: int, version: str) -> None:
        """Make ``version`` the project's model version, so its predictions are pre-annotations."""
        project = self.client.request("GET", f"/api/projects/{pid}/")
        if project.get("model_version") != version:
            self.client.request(
                "PATCH", f"/api/projects/{pid}/", json_body={"model_version": version}
            )

    def _batch_tasks(self, pid: int, batch_id: str) -> dict[str, int]:
        """alflow id -> task id of the tasks of ``batch_id`` that the project holds."""
        query = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": f"filter:tasks:data.{BATCH_FIELD}",
                        "operator": "equal",
                        "type": "String",
                        "value": batch_id,
                    }
                ],
            }
        }
        found: dict[str, int] = {}
        for page in self.client.pages(
            "/api/tasks/", {"project": pid, "query": json.dumps(query)}, "tasks"
        ):
            for task in page:
                data = task.get("data") or {}
                if data.get(BATCH_FIELD) == batch_id and data.get(ID_FIELD) is not None:
                    found.setdefault(str(data[ID_FIELD]), int(task["id"]))
        return found

    # -- the protocol ---------------------------------------------------------------------
    def read_batch(self, batch_id: str) -> list[dict[str, Any]] | None:
        return self.record.read_batch(batch_id)

    def export_batch(self, batch: ExportBatch) -> str:
        """Record the batch, then import the tasks the project does not hold yet.

        Raises :class:`LabelStudioUnavailable` when the server cannot be reached; the batch
        stays recorded and the next export of it sends what is missing.
        """
        self.record.export_batch(batch)  # raises BatchConflictError on changed content
        return self._push(batch.batch_id, to_ls_tasks(batch), batch.model_version)

    def _push(self, batch_id: str, tasks: list[dict[str, Any]], model_version: str | None) -> str:
        pid = self.ensure_project()
        state = self._state()
        withdrawn = state["withdrawn"]
        for task in tasks:
            task["data"][BATCH_FIELD] = batch_id
        held = self._batch_tasks(pid, batch_id)
        missing = [
            t
            for t in tasks
            if t["data"][ID_FIELD] not in held and t["data"][ID_FIELD] not in withdrawn
        ]
        if missing:
            try:
                self.client.request(
                    "POST", f"/api/projects/{pid}/import", json_body=missing, idempotent=False
                )
            except LabelStudioUnavailable:
                # The import may have landed before the connection broke: look before failing.
                held = self._batch_tasks(pid, batch_id)
                if any(t["data"][ID_FIELD] not in held for t in missing):
                    raise
            held = self._batch_tasks(pid, batch_id)
        if model_version and held:
            # After the import: the server accepts only a version some prediction has.
            self._set_model_version(pid, model_version)
        state = self._state()
        state["batches"][batch_id] = {
            "task_ids": held,
            "model_version": model_version,
            "pushed_at": _iso(datetime.now(UTC)),
        }
        self._save(state)
        return f"{self.project_url(pid)}/data"

    def pull_labels(self) -> list[LabelDelivery]:
        """Inbox files, then the annotations of tasks changed since the last confirmed pull."""
        deliveries = self.record.pull_labels()
        pid = self.project_id
        if pid is None:
            return deliveries
        cursor = _parse_time(self._state().get("cursor"))
        params: dict[str, Any] = {"project": pid, "fields": "all"}
        if cursor is not None:
            since = _iso(cursor - PULL_OVERLAP)
            params["query"] = json.dumps(
                {
                    "filters": {
                        "conjunction": "and",
                        "items": [
                            {
                                "filter": "filter:tasks:updated_at",
                                "operator": "greater",
                                "type": "Datetime",
                                "value": since,
                            }
                        ],
                    }
                }
            )
        tasks = [t for page in self.client.pages("/api/tasks/", params, "tasks") for t in page]
        if not tasks:
            return deliveries
        newest = max(_parse_time(t["updated_at"]) for t in tasks)
        answered = [t for t in tasks if t.get("annotations")]
        receipt = {"cursor": _iso(newest)}
        if not answered:
            self._advance(receipt)
            return deliveries
        for task in answered:
            task["annotations"] = [
                {**a, "completed_by": self._annotator(a)} for a in task["annotations"]
            ]
        from al_core.queues.label_files import parse_ls_tasks  # pandas: only when pulling

        origin = self.project_url(pid)
        rows = parse_ls_tasks(answered, self.label_set, origin=origin)
        deliveries.append(LabelDelivery(origin=origin, rows=rows, source=SOURCE, receipt=receipt))
        return deliveries

    def _annotator(self, annotation: dict[str, Any]) -> str:
        """The annotator's e-mail (falls back to ``ls-user:<id>`` for a deleted user)."""
        user = annotation.get("completed_by")
        if isinstance(user, dict):
            return str(user.get("email") or user.get("id"))
        if user is None:
            return "unknown"
        uid = int(user)
        if uid not in self._users:
            for page in self.client.pages("/api/users/", {}, "results"):
                self._users.update({int(u["id"]): u.get("email") or "" for u in page})
        if not self._users.get(uid):
            found = self.client.request("GET", f"/api/users/{uid}/", allow_404=True)
            self._users[uid] = (found or {}).get("email") or f"ls-user:{uid}"
        return self._users[uid]

    def _advance(self, receipt: dict[str, Any]) -> None:
        state = self._state()
        old = _parse_time(state.get("cursor"))
        new = _parse_time(receipt["cursor"])
        if old is None or new > old:
            state["cursor"] = receipt["cursor"]
            self._save(state)

    def confirm(self, delivery: LabelDelivery) -> None:
        if delivery.path is not None:
            self.record.confirm(delivery)
        else:
            self._advance(delivery.receipt)

    def refuse(self, delivery: LabelDelivery, reason: str) -> None:
        if delivery.path is None:
            raise ValueError("only label files can be refused; server annotations are rows")
        self.record.refuse(delivery, reason)

    def withdraw(self, ids: list[str], reason: str) -> list[str]:
        """Delete the unanswered tasks of ``ids`` from the project (answered ones stay)."""
        pid = self.project_id
        if pid is None:
            return []
        state = self._state()
        task_of: dict[str, int] = {}
        for batch_id, batch in state["batches"].items():
            if not batch_id.startswith(REVIEW_PREFIX):  # review tasks are never withdrawn
                task_of.update(batch["task_ids"])
        todo = [i for i in dict.fromkeys(ids) if i in task_of and i not in state["withdrawn"]]
        done: list[str] = []
        try:
            for item in todo:
                path = f"/api/tasks/{task_of[item]}/"
                task = self.client.request("GET", path, allow_404=True)
                if task is not None:
                    if task.get("total_annotations") or task.get("cancelled_annotations"):
                        continue  # answered meanwhile: its labels come with the next pull
                    self.client.request("DELETE", path, allow_404=True)
                done.append(item)
        finally:
            if done:
                state = self._state()
                state["withdrawn"].update({i: reason for i in done})
                self._save(state)
        return done

    def state(self) -> dict[str, Any]:
        """The server, project and pull position as recorded locally (no request is made)."""
        state = self._state()
        record = self.record.state()
        return {
            "queue": self.name,
            "url": self.url,
            "project_id": self.project_id,
            "project_url": self.project_url() if self.project_id is not None else None,
            "batches_sent": sorted(state["batches"]),
            "withdrawn": len(state["withdrawn"]),
            "last_pull": state.get("cursor"),
            "outbox_batches": record["outbox_batches"],
            "inbox_waiting": record["inbox_waiting"],
        }
