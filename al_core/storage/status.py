"""A summary of a workspace's state, for ``alflow status`` and the pipeline's reports."""

from __future__ import annotations

from typing import Any

from al_core.storage.workspace import Workspace


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """Counts of the pool, labels, quarantine and iterations (JSON-serializable)."""
    with ws.reading() as con:

        def one(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        pool_size = one("SELECT count(*) FROM pool WHERE role = 'pool'")
        eval_size = one("SELECT count(*) FROM pool WHERE role = 'eval'")
        labelled = one(
            "SELECT count(*) FROM current_labels c JOIN pool p USING (id) WHERE p.role = 'pool'"
        )
        counts = con.execute(
            """SELECT lab, count(*) FROM (
                   SELECT unnest(c.labels) AS lab FROM current_labels c JOIN pool p USING (id)
                   WHERE p.role = 'pool') GROUP BY lab"""
        ).fetchall()
        found = dict(counts)
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
