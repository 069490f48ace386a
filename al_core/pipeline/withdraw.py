"""Take items back from the annotators when they are no longer wanted.

Two cases: the loop stopped (nothing exported and still unanswered is needed any more), and an
item waiting in the queue got a label from somewhere else (a label file, an ingest with labels)
while nobody had answered it in the queue. Queues that can (Label Studio) delete those tasks;
the file queue lists them in ``outbox/withdrawn.json``.
"""

from __future__ import annotations

from al_core.pipeline.state import loop_state
from al_core.queues import AnnotationQueue
from al_core.storage import Workspace

STOPPED = "the active-learning loop stopped"
LABELLED_ELSEWHERE = "labelled outside this annotation queue"


def items_to_withdraw(ws: Workspace, queue_source: str) -> dict[str, str]:
    """Exported items that should leave the queue, each with the reason.

    ``queue_source`` is the source tag of the queue's own label events: an exported item with
    none of those but a label from another source was labelled elsewhere.
    """
    reasons: dict[str, str] = {}
    elsewhere = ws.query(
        """SELECT DISTINCT q.id FROM query_log q
        WHERE q.id IN (SELECT id FROM label_events WHERE NOT skipped AND source <> $1)
          AND q.id NOT IN (SELECT id FROM label_events WHERE source = $1)
        ORDER BY q.id""",
        [queue_source],
    ).id
    reasons.update({i: LABELLED_ELSEWHERE for i in elsewhere})
    if loop_state(ws).stopped:
        waiting = ws.query(
            """SELECT DISTINCT id FROM query_log
            WHERE id NOT IN (SELECT id FROM label_events) ORDER BY id"""
        ).id
        reasons.update({i: STOPPED for i in waiting})
    return reasons


def withdraw_items(ws: Workspace, queue: AnnotationQueue) -> dict[str, list[str]]:
    """Withdraw what :func:`items_to_withdraw` names; returns reason -> ids withdrawn now."""
    reasons = items_to_withdraw(ws, getattr(queue, "source", "queue"))
    done: dict[str, list[str]] = {}
    for reason in (STOPPED, LABELLED_ELSEWHERE):
        ids = [i for i, r in reasons.items() if r == reason]
        if ids:
            withdrawn = queue.withdraw(ids, reason)
            if withdrawn:
                done[reason] = withdrawn
    return done
