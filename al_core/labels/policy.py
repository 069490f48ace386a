"""How the current label of an item is derived from its label events.

Label events are never changed or deleted; the *current* label is a view over them.

**Which event is newer** is one total order, the same for every policy:

1. the annotation's own time (``annotated_at``: Label Studio's ``updated_at``, else its
   ``created_at``; a ``updated_at``/``created_at`` column of a CSV or JSONL file) where the
   format has one, else the time alflow imported the event (``created_at``), which is the
   latest the annotation can have been made;
2. then the import time (``created_at``);
3. then ``event_id``, which orders the events of one import by their row in the file.

So the same annotations give the same winner whatever order a file lists them in (Label
Studio's JSON export lists a task's annotations oldest first, JSON-MIN newest first), and
importing an older export after a newer one does not undo a relabel.

Policies:

- ``latest``: the newest non-skipped event wins (a relabel replaces the earlier label).
- ``majority``: each annotator's newest non-skipped event is one vote; the label (or label set,
  for multi-label) with most votes wins. A tie goes to the label set whose newest vote is newest
  in the order above, so two annotators who disagree in one file without times are decided by
  the later row.

Skips never erase a label. Whatever the policy, ``disagreements`` lists items whose annotators'
latest labels differ, so conflicts stay visible.

:func:`create_label_views` creates, on a DuckDB connection with a ``label_events`` relation:
``annotator_labels`` (latest per item and annotator), ``current_labels`` (id, labels,
n_annotators, n_events, last_labeled_at) and ``disagreements`` (id, n_distinct, votes).
:func:`current_labels_sql` gives the same ``current_labels`` query over any relation of label
events (a filtered history, or the history plus events not stored yet).
"""

from __future__ import annotations

import duckdb

LABEL_POLICIES = ("latest", "majority")

# Newest first, as described in the module docstring; event_id makes the order total.
NEWEST_FIRST = "coalesce(annotated_at, created_at) DESC, created_at DESC, event_id DESC"
_OLDEST_FIRST = "coalesce(annotated_at, created_at), created_at, event_id"


def _labelled(events: str) -> str:
    return f"(SELECT * FROM {events} WHERE NOT skipped AND len(labels) > 0)"


def annotator_labels_sql(events: str = "label_events") -> str:
    """Each annotator's newest label of each item, with ``seq``: its rank in the total order
    among all labelled events of the item (1 = oldest)."""
    return f"""
    SELECT id, annotator, list_sort(labels) AS labels, created_at, seq FROM (
        SELECT *,
            row_number() OVER (PARTITION BY id, annotator ORDER BY {NEWEST_FIRST}) AS rn,
            row_number() OVER (PARTITION BY id ORDER BY {_OLDEST_FIRST}) AS seq
        FROM {_labelled(events)}
    ) WHERE rn = 1"""


def _stats(events: str) -> str:
    return f"""
    SELECT id, count(DISTINCT annotator) AS n_annotators, count(*) AS n_events,
           max(created_at) AS last_labeled_at
    FROM {_labelled(events)} GROUP BY id"""


def current_labels_sql(policy: str, events: str = "label_events") -> str:
    """A query of (id, labels, n_annotators, n_events, last_labeled_at) under ``policy``.

    ``events`` is a relation name or a parenthesised subquery with the ``label_events`` columns.
    """
    if policy not in LABEL_POLICIES:
        raise ValueError(f"unknown label policy {policy!r}; choose one of {LABEL_POLICIES}")
    if policy == "latest":
        winner = f"""
        SELECT id, list_sort(labels) AS labels FROM (
            SELECT *, row_number() OVER (PARTITION BY id ORDER BY {NEWEST_FIRST}) AS rn
            FROM {_labelled(events)}
        ) WHERE rn = 1"""
    else:
        winner = f"""
        SELECT id, labels FROM (
            SELECT id, labels, row_number() OVER (
                PARTITION BY id ORDER BY n DESC, newest DESC) AS rn
            FROM (
                SELECT id, labels, count(*) AS n, max(seq) AS newest
                FROM ({annotator_labels_sql(events)}) GROUP BY id, labels
            )
        ) WHERE rn = 1"""
    return f"""
    SELECT w.id, w.labels, s.n_annotators, s.n_events, s.last_labeled_at
    FROM ({winner}) w JOIN ({_stats(events)}) s USING (id)"""


_DISAGREEMENTS = """
CREATE OR REPLACE VIEW disagreements AS
SELECT id, count(DISTINCT labels) AS n_distinct,
       list(struct_pack(annotator := annotator, labels := labels) ORDER BY annotator) AS votes
FROM annotator_labels GROUP BY id HAVING count(DISTINCT labels) > 1
"""


def create_label_views(con: duckdb.DuckDBPyConnection, policy: str = "latest") -> None:
    """Create ``annotator_labels``, ``current_labels`` and ``disagreements`` on ``con``."""
    sql = current_labels_sql(policy)  # validates the policy first
    con.execute(
        "CREATE OR REPLACE VIEW annotator_labels AS "
        "SELECT id, annotator, labels, created_at FROM (" + annotator_labels_sql() + ")"
    )
    con.execute(f"CREATE OR REPLACE VIEW current_labels AS {sql}")
    con.execute(_DISAGREEMENTS)
