"""The current-label policies on hand-made event tables: one total, documented order.

Each case is small enough to work out on paper; every case is checked with the events stored in
both orders, since the winner must not depend on the physical order of the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from al_core.labels import create_label_views
from al_core.labels.policy import current_labels_sql
from al_core.storage.schema import SCHEMAS

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def event(n, item, labels, annotator, *, imported=T0, annotated=None, skipped=False):
    """Event number ``n`` (its row in an import: event ids order rows of one import)."""
    return {
        "event_id": f"ev-labels-batch-{n:09d}",
        "id": item,
        "labels": labels,
        "skipped": skipped,
        "annotator": annotator,
        "source": "queue",
        "external_key": f"k{n}",
        "created_at": imported,
        "annotated_at": annotated,
    }


def winners(events, policy, *, reverse=False) -> dict[str, list[str]]:
    rows = list(reversed(events)) if reverse else list(events)
    con = duckdb.connect()
    con.register("label_events", pa.Table.from_pylist(rows, schema=SCHEMAS["label_events"]))
    create_label_views(con, policy)
    got = con.execute("SELECT id, labels FROM current_labels").fetchall()
    return {item: list(labels) for item, labels in got}


def check(events, policy, expected):
    assert winners(events, policy) == expected
    assert winners(events, policy, reverse=True) == expected


def test_majority_tie_in_one_file_goes_to_the_later_row():
    # Two annotators disagree in one file: same import time, no annotation time. 1 vote each;
    # the tie goes to the newest vote, and among equally new votes to the later row.
    events = [event(1, "a", ["pos"], "alice"), event(2, "a", ["neg"], "bob")]
    check(events, "majority", {"a": ["neg"]})
    swapped = [event(1, "a", ["neg"], "bob"), event(2, "a", ["pos"], "alice")]
    check(swapped, "majority", {"a": ["pos"]})


def test_majority_tie_goes_to_the_newest_annotation_time_before_row_order():
    later = T0 - timedelta(hours=1)
    events = [
        event(1, "a", ["pos"], "alice", annotated=later),
        event(2, "a", ["neg"], "bob", annotated=later - timedelta(minutes=5)),
    ]
    check(events, "majority", {"a": ["pos"]})


def test_majority_counts_votes_before_time():
    events = [
        event(1, "a", ["pos"], "alice"),
        event(2, "a", ["pos"], "bob"),
        event(3, "a", ["neg"], "carol", imported=T0 + timedelta(days=1)),  # newest, outvoted
        event(4, "a", ["neg"], "alice", annotated=T0 - timedelta(days=1)),  # alice's older label
    ]
    check(events, "majority", {"a": ["pos"]})


def test_latest_follows_the_annotation_time_not_the_import_order():
    # An older export imported later (its annotation times are older) does not win.
    events = [
        event(1, "a", ["neg"], "alice", annotated=T0 + timedelta(hours=2)),
        event(2, "a", ["pos"], "alice", imported=T0 + timedelta(days=1), annotated=T0),
    ]
    check(events, "latest", {"a": ["neg"]})


def test_latest_without_annotation_times_uses_import_time_then_row():
    events = [
        event(1, "a", ["pos"], "alice"),
        event(2, "a", ["neg"], "alice"),  # same import, later row
        event(3, "b", ["neg"], "alice", imported=T0 + timedelta(seconds=1)),
        event(4, "b", ["pos"], "alice"),
        event(5, "b", [], "bob", imported=T0 + timedelta(days=1), skipped=True),  # erases nothing
    ]
    check(events, "latest", {"a": ["neg"], "b": ["neg"]})


def test_an_event_without_a_time_counts_as_made_when_imported():
    # Import time is the latest an annotation can have been made, so it is compared with
    # annotation times: a CSV row imported at noon beats a Label Studio label made at 11:00.
    events = [
        event(1, "a", ["pos"], "alice", imported=T0),
        event(2, "a", ["neg"], "bob", imported=T0 + timedelta(hours=1), annotated=T0 - timedelta(hours=1)),
    ]  # fmt: skip
    check(events, "latest", {"a": ["pos"]})


def test_current_labels_sql_reads_any_relation_and_rejects_unknown_policies():
    con = duckdb.connect()
    rows = [event(1, "a", ["pos"], "alice"), event(2, "a", ["neg"], "alice")]
    con.register("history", pa.Table.from_pylist(rows, schema=SCHEMAS["label_events"]))
    sql = current_labels_sql(
        "latest", "(SELECT * FROM history WHERE event_id < 'ev-labels-batch-000000002')"
    )
    assert [list(r[1]) for r in con.execute(sql).fetchall()] == [["pos"]]
    with pytest.raises(ValueError, match="unknown label policy 'vote'"):
        current_labels_sql("vote")
