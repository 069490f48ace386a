"""Disagreement review: where annotators differ, how much they agree, and a review batch.

Each annotator's newest label of an item is their rating of it (the ``annotator_labels`` view;
for multi-label workspaces the label set is one value). :func:`disagreement_report` lists the
items whose annotators differ, with their votes and current label, and the agreement measures
of :mod:`al_core.labels.agreement`. :func:`send_review_batch` sends the disagreed items to the
annotation queue as a review batch (``review-NNNN``) with the votes shown beside each text; a
reviewer's answer comes back as an ordinary, newer label (the ``latest`` policy makes it the
current label; under ``majority`` it is one more vote).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from al_core.labels.agreement import agreement_report
from al_core.queues import REVIEW_PREFIX, AnnotationQueue, ExportBatch, ExportItem
from al_core.storage import Workspace


def ratings(ws: Workspace) -> pd.DataFrame:
    """id, annotator, labels (sorted list) and value (``|``-joined) of each annotator's newest
    label of each item."""
    df = ws.query("SELECT id, annotator, labels FROM annotator_labels ORDER BY id, annotator")
    df["value"] = ["|".join(v) for v in df["labels"]]
    return df


def disagreement_report(ws: Workspace) -> dict[str, Any]:
    """Agreement over every item two or more annotators labelled, and the disagreed items."""
    rated = ratings(ws)
    report = agreement_report(rated[["id", "annotator", "value"]])
    disagreed = ws.query(
        """SELECT d.id, p.text, p.role, c.labels AS current
        FROM disagreements d JOIN pool p USING (id) LEFT JOIN current_labels c USING (id)
        ORDER BY d.id"""
    )
    votes = {
        item: [
            {"annotator": a, "labels": list(ls)}
            for a, ls in zip(group.annotator, group.labels, strict=True)
        ]
        for item, group in rated[rated.id.isin(disagreed.id)].groupby("id")
    }
    report["items"] = [
        {
            "id": r.id,
            "text": r.text,
            "role": r.role,
            "current": None if r.current is None else list(r.current),
            "votes": votes.get(r.id, []),
        }
        for r in disagreed.itertuples()
    ]
    report["label_policy"] = ws.config.label_policy
    return report


def reviewed_items(queue: AnnotationQueue) -> set[str]:
    """Items already sent in a review batch."""
    names = queue.state().get("outbox_batches", [])
    out: set[str] = set()
    for name in names:
        if name.startswith(REVIEW_PREFIX):
            out.update(t["data"]["alflow_id"] for t in queue.read_batch(name) or [])
    return out


def send_review_batch(
    ws: Workspace, queue: AnnotationQueue, report: dict[str, Any], limit: int | None = None
) -> dict[str, Any]:
    """Send the report's disagreed items not sent for review before as ``review-NNNN``."""
    sent_before = reviewed_items(queue)
    todo = [it for it in report["items"] if it["id"] not in sent_before][:limit]
    result: dict[str, Any] = {"batch": None, "items": len(todo), "sent_before": 0}
    result["sent_before"] = sum(it["id"] in sent_before for it in report["items"])
    if not todo:
        return result
    existing = [b for b in queue.state().get("outbox_batches", []) if b.startswith(REVIEW_PREFIX)]
    batch_id = f"{REVIEW_PREFIX}{len(existing) + 1:04d}"
    batch = ExportBatch(
        batch_id=batch_id,
        iteration=0,
        model_version=None,
        items=[
            ExportItem(
                id=it["id"],
                text=it["text"],
                score=None,
                rank=rank,
                note="; ".join(f"{v['annotator']}: {'|'.join(v['labels'])}" for v in it["votes"]),
            )
            for rank, it in enumerate(todo)
        ],
    )
    result["batch"] = batch_id
    result["where"] = queue.export_batch(batch)
    return result
