"""Pull every delivery waiting in the workspace's annotation queue and import it.

Deliveries are label files (the inbox of the file queue, or of a Label Studio workspace) and
annotations pulled from a Label Studio server; both go through the same label import.
"""

from __future__ import annotations

from typing import Any

from al_core.errors import InputFileError
from al_core.pipeline.label_import import import_label_file, import_label_rows
from al_core.queues import AnnotationQueue
from al_core.storage import Workspace


def import_queue(ws: Workspace, queue: AnnotationQueue) -> list[dict[str, Any]]:
    """Import each delivery, then confirm it to the queue (a bad file is refused with the reason).

    A delivery is confirmed only after its labels are committed, so a crash in between leaves
    it waiting, and the next run recognises what it holds (by file hash, or by annotation id
    and version) and adds nothing twice.
    """
    reports = []
    for delivery in queue.pull_labels():
        if delivery.path is not None:
            try:
                report = import_label_file(ws, delivery.path, source=delivery.source)
            except InputFileError as exc:
                reports.append({"source": delivery.origin, "error": str(exc)})
                queue.refuse(delivery, str(exc))
                continue
        else:
            report = import_label_rows(
                ws, delivery.rows, origin=delivery.origin, source=delivery.source
            )
        queue.confirm(delivery)
        reports.append(report.to_dict())
    return reports
