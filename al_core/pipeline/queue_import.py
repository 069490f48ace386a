"""Pull every label file waiting in the workspace's queue inbox and import it."""

from __future__ import annotations

from typing import Any

from al_core.errors import InputFileError
from al_core.pipeline.label_import import import_label_file
from al_core.queues import FileQueue
from al_core.storage import Workspace


def import_queue(ws: Workspace, queue: FileQueue) -> list[dict[str, Any]]:
    """Import each inbox file; move it to ``imported/`` (or ``rejected/`` with the reason).

    A file is moved only after its labels are committed, so a crash in between leaves it in
    the inbox, and the next run recognises it by its hash and adds nothing twice.
    """
    reports = []
    for path in queue.pull_label_files():
        try:
            report = import_label_file(ws, path)
        except InputFileError as exc:
            reports.append({"source": str(path), "error": str(exc)})
            queue.reject(path, str(exc))
            continue
        queue.mark_imported(path)
        reports.append(report.to_dict())
    return reports
