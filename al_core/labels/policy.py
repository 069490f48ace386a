"""How the current label of an item is derived from its label events.

Label events are never changed or deleted; the *current* label is a view over them:

- ``latest``: the most recent non-skipped event wins (a relabel replaces the earlier label).
- ``majority``: each annotator's most recent non-skipped event is one vote; the label (or label
  set, for multi-label) with most votes wins, ties going to the most recent vote.

Skips never erase a label. Whatever the policy, ``disagreements`` lists items whose annotators'
latest labels differ, so conflicts stay visible.

Views created on a DuckDB connection that already has a ``label_events`` view:
``annotator_labels`` (latest per item and annotator), ``current_labels`` (id, labels,
n_annotators, n_events, last_labeled_at) and ``disagreements`` (id, n_distinct, votes).
"""

from __future__ import annotations

import duckdb

LABEL_POLICIES = ("latest", "majority")

_ANNOTATOR_LABELS = """
CREATE OR REPLACE VIEW annotator_labels AS
SELECT id, annotator, list_sort(labels) AS labels, created_at FROM (
    SELECT *, row_number() OVER (
        PARTITION BY id, annotator ORDER BY created_at DESC, event_id DESC) AS rn
    FROM label_events WHERE NOT skipped AND len(labels) > 0
) WHERE rn = 1
"""

_STATS = """
SELECT id, count(DISTINCT annotator) AS n_annotators, count(*) AS n_events,
       max(created_at) AS last_labeled_at
FROM label_events WHERE NOT skipped AND len(labels) > 0 GROUP BY id
"""

_LATEST = f"""
CREATE OR REPLACE VIEW current_labels AS
WITH winner AS (
    SELECT id, list_sort(labels) AS labels FROM (
        SELECT *, row_number() OVER (PARTITION BY id ORDER BY created_at DESC, event_id DESC) rn
        FROM label_events WHERE NOT skipped AND len(labels) > 0
    ) WHERE rn = 1
)
SELECT w.id, w.labels, s.n_annotators, s.n_events, s.last_labeled_at
FROM winner w JOIN ({_STATS}) s USING (id)
"""

_MAJORITY = f"""
CREATE OR REPLACE VIEW current_labels AS
WITH votes AS (
    SELECT id, labels, count(*) AS n, max(created_at) AS last
    FROM annotator_labels GROUP BY id, labels
), winner AS (
    SELECT id, labels FROM (
        SELECT *, row_number() OVER (PARTITION BY id ORDER BY n DESC, last DESC) rn FROM votes
    ) WHERE rn = 1
)
SELECT w.id, w.labels, s.n_annotators, s.n_events, s.last_labeled_at
FROM winner w JOIN ({_STATS}) s USING (id)
"""

_DISAGREEMENTS = """
CREATE OR REPLACE VIEW disagreements AS
SELECT id, count(DISTINCT labels) AS n_distinct,
       list(struct_pack(annotator := annotator, labels := labels) ORDER BY annotator) AS votes
FROM annotator_labels GROUP BY id HAVING count(DISTINCT labels) > 1
"""


def create_label_views(con: duckdb.DuckDBPyConnection, policy: str = "latest") -> None:
    """Create ``annotator_labels``, ``current_labels`` and ``disagreements`` on ``con``."""
    if policy not in LABEL_POLICIES:
        raise ValueError(f"unknown label policy {policy!r}; choose one of {LABEL_POLICIES}")
    con.execute(_ANNOTATOR_LABELS)
    con.execute(_LATEST if policy == "latest" else _MAJORITY)
    con.execute(_DISAGREEMENTS)
