"""What the workspace says about the active-learning loop: items, labels, iterations, queue.

Every query reads the Parquet tables through DuckDB; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from al_core.labels.policy import current_labels_sql
from al_core.storage import Workspace

if TYPE_CHECKING:  # the queries return DataFrames; `alflow status` never loads pandas
    import pandas as pd

# Iteration statuses that consumed an iteration number (``skipped`` runs do not).
RECORDED = ("initial", "completed", "stopped")


@dataclass(frozen=True)
class LoopState:
    next_iteration: int
    last_trained_iteration: int | None
    labels_watermark: datetime | None  # newest label event used by the last trained model
    n_trained: int  # iterations that trained a model
    stopped: bool  # the last recorded iteration said stop


def loop_state(ws: Workspace) -> LoopState:
    rows = ws.rows(
        "SELECT iteration, status, labels_until FROM iterations "
        "WHERE status IN ('initial', 'completed', 'stopped') ORDER BY iteration"
    )
    if not rows:
        return LoopState(1, None, None, 0, False)
    trained = [(iteration, until) for iteration, status, until in rows if status != "initial"]
    return LoopState(
        next_iteration=max(r[0] for r in rows) + 1,
        last_trained_iteration=trained[-1][0] if trained else None,
        labels_watermark=trained[-1][1] if trained else None,
        n_trained=len(trained),
        stopped=rows[-1][1] == "stopped",
    )


def labelled_items(ws: Workspace, role: str = "pool", texts: bool = True) -> pd.DataFrame:
    """id, text, content_hash, labels (list) of items of ``role`` with a current label.

    Without the texts (``texts=False``) the pool's text column is not read: on a million-item
    pool that is most of the query's time.
    """
    text = "p.text, " if texts else ""
    return ws.query(
        f"SELECT p.id, {text}p.content_hash, c.labels FROM pool p JOIN current_labels c "
        "USING (id) WHERE p.role = ? ORDER BY p.id",
        [role],
    )


def labels_watermark(ws: Workspace) -> datetime | None:
    return ws.scalar("SELECT max(created_at) FROM label_events")


def new_label_count(ws: Workspace, since: datetime | None) -> int:
    """Pool items whose current label changed since ``since`` (every labelled one when None).

    An item counts when it has a current label now and had none, or another one, under the
    label events stored by ``since`` (their import time, ``created_at``). So a relabel counts,
    while a second annotator confirming a label, a repeated or outdated label, or a skip do not:
    what the model would learn from is the same. Labels of evaluation items (``role =
    'eval'``) are not training data, so they never count.
    """
    pool_items = "JOIN pool p USING (id) WHERE p.role = 'pool'"
    if since is None:
        return int(ws.scalar(f"SELECT count(*) FROM current_labels {pool_items}"))
    then = current_labels_sql(
        ws.config.label_policy, "(SELECT * FROM label_events WHERE created_at <= $1)"
    )
    return int(
        ws.scalar(
            f"""SELECT count(*) FROM current_labels n LEFT JOIN ({then}) b USING (id)
            {pool_items} AND (b.id IS NULL OR b.labels <> n.labels)""",
            [since],
        )
    )


# Exported items nobody has answered yet (no label and no skip, ever).
_PENDING = """
    SELECT DISTINCT q.id FROM query_log q
    WHERE NOT EXISTS (SELECT 1 FROM label_events e WHERE e.id = q.id)
"""


def candidate_items(ws: Workspace, texts: bool = True) -> pd.DataFrame:
    """Pool items a strategy may pick: unlabelled, never skipped, not waiting in a batch.

    Columns id, content_hash and (``texts``) text, sorted by id; without the texts a
    million-item pool is a few tens of MB instead of hundreds.
    """
    text = "p.text, " if texts else ""
    return ws.query(
        f"""SELECT p.id, {text}p.content_hash FROM pool p
        WHERE p.role = 'pool'
          AND p.id NOT IN (SELECT id FROM current_labels)
          AND p.id NOT IN (SELECT id FROM label_events WHERE skipped)
          AND p.id NOT IN ({_PENDING})
        ORDER BY p.id"""
    )


def pending_count(ws: Workspace) -> int:
    return int(ws.scalar(f"SELECT count(*) FROM ({_PENDING})"))


def stopping_set(ws: Workspace, size: int) -> list[str]:
    """A fixed set of pool ids for stabilizing-predictions criteria.

    Chosen once (the ``size`` pool items with the smallest content hash: a deterministic,
    effectively random sample) and kept in ``models/stopping_set.json``, so later ingests
    do not change it.
    """
    key = "models/stopping_set.json"
    if ws.location.is_file(key):
        return ws.location.read_json(key)["ids"]
    ids = ws.query(
        "SELECT id FROM pool WHERE role = 'pool' ORDER BY content_hash LIMIT ?", [int(size)]
    ).id.tolist()
    ws.location.write_json(key, {"ids": ids})
    return ids


def items_by_id(ws: Workspace, ids: list[str]) -> pd.DataFrame:
    """id, text, content_hash for ``ids``, in the given order."""
    wanted = pa.table(
        {"id": pa.array(list(ids), pa.string()), "k": pa.array(range(len(ids)), pa.int64())}
    )
    with ws.reading() as con:
        con.register("_wanted_ids", wanted)
        try:
            return con.execute(
                "SELECT p.id, p.text, p.content_hash FROM pool p "
                "JOIN _wanted_ids w USING (id) ORDER BY w.k"
            ).df()
        finally:
            con.unregister("_wanted_ids")


def latest_batch(ws: Workspace) -> str | None:
    value = ws.scalar("SELECT batch_id FROM query_log ORDER BY created_at DESC LIMIT 1")
    return None if value is None else str(value)


def latest_stopping(ws: Workspace) -> list[dict]:
    """Each criterion's decision in the latest iteration that checked stopping.

    ``applicable`` is False where the criterion could not judge (its ``reason`` says why);
    rows written before that column existed read as applicable.
    """
    rows = ws.rows(
        "SELECT iteration, criterion, value, stop, coalesce(applicable, true), reason "
        "FROM stopping WHERE iteration = (SELECT max(iteration) FROM stopping) "
        "ORDER BY criterion"
    )
    return [
        {
            "iteration": int(iteration),
            "criterion": criterion,
            "value": None if value is None or value != value else float(value),  # NULL, NaN
            "stop": bool(stop),
            "applicable": bool(applicable),
            "reason": reason,
        }
        for iteration, criterion, value, stop, applicable, reason in rows
    ]


def pipeline_status(ws: Workspace) -> dict:
    """:func:`al_core.storage.workspace_status` plus the loop and the annotation queue."""
    from al_core.pipeline.export import queue_for
    from al_core.storage import workspace_status

    info = workspace_status(ws)
    state = loop_state(ws)
    queue = queue_for(ws).state()
    info["next_iteration"] = state.next_iteration
    info["stopped"] = state.stopped
    info["stopping"] = latest_stopping(ws)
    info["queue"] = {
        **queue,
        "current_batch": latest_batch(ws),
        "pending_items": pending_count(ws),
        "new_labels_since_training": new_label_count(ws, state.labels_watermark),
    }
    return info
