"""A summary of a workspace's state, for ``alflow status`` and the pipeline's reports."""

from __future__ import annotations

from typing import Any

from al_core.storage.workspace import Workspace


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """Counts of the pool, labels, quarantine and iterations (JSON-serializable)."""
    with ws.reading() as con:

        def one(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        pool_size, eval_size = con.execute(
            "SELECT count(*) FILTER (role = 'pool'), count(*) FILTER (role = 'eval') FROM pool"
        ).fetchone()
        # The labelled pool items once (the join with a million-item pool is most of the
        # status's time): their number in the row without a label, then the count per label.
        counts = con.execute(
            """WITH lab AS MATERIALIZED (
                   SELECT c.labels FROM current_labels c
                   WHERE c.id IN (SELECT id FROM pool WHERE role = 'pool'))
               SELECT NULL AS lab, count(*) FROM lab
               UNION ALL
               SELECT lab, count(*) FROM (SELECT unnest(labels) AS lab FROM lab) GROUP BY lab"""
        ).fetchall()
        found = dict(counts)
        labelled = found.pop(None)
        label_counts = {name: int(found.get(name, 0)) for name in ws.config.labels}
        last = con.execute(
            "SELECT iteration, status, finished_at, accuracy, stop, stop_reason FROM iterations "
            "ORDER BY iteration DESC, finished_at DESC LIMIT 1"
        ).fetchone()
        status = {
            "workspace": ws.uri,
            "labels": list(ws.config.labels),
            "multi_label": ws.config.multi_label,
            "label_policy": ws.config.label_policy,
            "pool_size": int(pool_size),
            "eval_size": int(eval_size),
            "labelled": int(labelled),
            "unlabelled": int(pool_size - labelled),
            "label_counts": label_counts,
            "label_events": int(one("SELECT count(*) FROM label_events")),
            "disagreements": int(one("SELECT count(*) FROM disagreements")),
            "quarantined": int(one("SELECT count(*) FROM quarantine")),
            "ingested_files": int(one("SELECT count(*) FROM ingest_log WHERE kind = 'pool'")),
            "iterations": int(
                one(
                    "SELECT count(DISTINCT iteration) FROM iterations "
                    "WHERE status IN ('completed', 'stopped')"
                )
            ),
            "last_iteration": None
            if last is None
            else {
                "iteration": last[0],
                "status": last[1],
                "finished_at": str(last[2]),
                "accuracy": last[3],
                "stop": last[4],
                "stop_reason": last[5],
            },
        }
    return status
