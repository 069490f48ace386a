"""import_label_file on a small workspace: formats, exact counts, quarantine, dedupe, batches."""

from __future__ import annotations

import json

import pytest

from al_core.errors import InputFileError
from al_core.pipeline import (
    export_selection,
    import_label_file,
    plan_iteration,
    record_iteration,
    resolve_settings,
    select_batch,
)
from al_core.storage import utcnow


def current(ws) -> dict[str, list[str]]:
    """Current label of every labelled pool item."""
    df = ws.query(
        "SELECT c.id, c.labels FROM current_labels c JOIN pool p USING (id) WHERE p.role = 'pool'"
    )
    return {i: list(ls) for i, ls in zip(df.id, df.labels, strict=True)}


def n_events(ws) -> int:
    return int(ws.scalar("SELECT count(*) FROM label_events WHERE source = 'queue'"))


def counts(report) -> tuple[int, int, int, int, int]:
    return report.new, report.changed, report.unchanged, report.skipped, report.rejected


# --- formats and counts -------------------------------------------------------------------


def test_csv_counts_new_changed_unchanged_skipped(pool_ws, write_csv):
    first = import_label_file(
        pool_ws, write_csv("a.csv", [("p00", "sport"), ("p01", "tech"), ("p02", "food")])
    )
    assert counts(first) == (3, 0, 0, 0, 0)
    assert first.n_rows == 3 and first.accepted == 3 and not first.file_seen_before
    assert current(pool_ws) == {"p00": ["sport"], "p01": ["tech"], "p02": ["food"]}

    second = import_label_file(
        pool_ws,
        write_csv(
            "b.csv",
            [("p00", "sport"), ("p01", "food"), ("p02", ""), ("p03", "sport"), ("p04", "")],
        ),
    )
    # p00: the same annotation again (same item, label and annotator; no time), so already
    # imported; p01 relabelled, p02 and p04 skipped, p03 new.
    assert counts(second) == (1, 1, 0, 2, 0) and second.already_imported == 1
    assert second.summary().endswith(
        "1 new, 1 changed, 0 unchanged, 2 skipped, 0 rejected (1 already imported)"
    )
    assert second.items_changed == 2  # p01 and p03
    assert n_events(pool_ws) == 7
    events = pool_ws.query("SELECT * FROM label_events WHERE source = 'queue'")
    assert set(events.annotator) == {"ann"}
    assert events.batch_id.isna().all() and events.iteration.isna().all()
    log = pool_ws.query("SELECT * FROM ingest_log WHERE kind = 'labels' ORDER BY created_at")
    assert log.n_added.tolist() == [3, 4] and log.n_labels.tolist() == [3, 2]


def test_csv_multi_label_rows_are_rejected_in_a_single_label_workspace(pool_ws, write_csv):
    report = import_label_file(pool_ws, write_csv("m.csv", [("p00", "sport|tech")]))
    assert counts(report) == (0, 0, 0, 0, 1)
    (reason,) = pool_ws.query("SELECT reason FROM quarantine").reason
    assert "2 labels for a single-label task" in reason


def test_jsonl_labels_skips_and_annotators(pool_ws, write_jsonl):
    path = write_jsonl(
        "a.jsonl",
        [
            {"id": "p00", "label": "sport", "annotator": "alice"},
            {"id": "p01", "labels": ["tech"], "annotator": "bob"},
            {"id": "p02", "skipped": True, "annotator": "alice"},
            {"id": "p03", "label": "nope"},
        ],
    )
    report = import_label_file(pool_ws, path)
    assert counts(report) == (2, 0, 0, 1, 1)
    assert current(pool_ws) == {"p00": ["sport"], "p01": ["tech"]}
    ev = pool_ws.query("SELECT id, annotator, skipped FROM label_events WHERE source = 'queue'")
    assert dict(zip(ev.id, ev.annotator, strict=True)) == {
        "p00": "alice",
        "p01": "bob",
        "p02": "alice",
    }
    assert ev.set_index("id").skipped.to_dict() == {"p00": False, "p01": False, "p02": True}


def test_label_studio_full_export(pool_ws, write_ls):
    path = write_ls(
        "ls.json",
        {
            "p00": [(1, "sport", "a@x")],
            "p01": [(2, "tech", "a@x"), (3, "tech", "b@x")],
            "p02": [(4, None, "a@x")],  # an empty result: the annotator skipped it
        },
    )
    report = import_label_file(pool_ws, path)
    # Each annotation is one row; both annotations of p01 are new to the workspace.
    assert counts(report) == (3, 0, 0, 1, 0)
    assert current(pool_ws) == {"p00": ["sport"], "p01": ["tech"]}
    keys = pool_ws.query("SELECT external_key FROM label_events WHERE source = 'queue'")
    assert sorted(keys.external_key) == [f"ls-annotation:{k}" for k in (1, 2, 3, 4)]


def test_label_studio_json_min_export(pool_ws, label_dir):
    records = [
        {"id": 7001, "alflow_id": "p00", "label": "food", "annotator": "a@x", "annotation_id": 9},
        {"id": 7002, "alflow_id": "p01", "text": "unanswered task"},
    ]
    (label_dir / "min.json").write_text(json.dumps(records))
    report = import_label_file(pool_ws, label_dir / "min.json")
    assert report.n_rows == 1 and counts(report) == (1, 0, 0, 0, 0)
    assert current(pool_ws) == {"p00": ["food"]}


# --- quarantine ---------------------------------------------------------------------------


def test_unknown_ids_and_labels_are_quarantined_with_reasons(pool_ws, write_csv, label_dir):
    path = write_csv(
        "mixed.csv",
        [("p00", "sport"), ("zzz", "tech"), ("p01", "nope"), ("p02", "food"), ("", "food")],
    )
    with open(path, "a") as fh:
        fh.write("p03,tech,ann,extra,field\n")
    report = import_label_file(pool_ws, path)
    assert counts(report) == (2, 0, 0, 0, 4)
    assert report.reasons == {
        "unknown id": 1,
        "unknown label": 1,
        "missing id": 1,
        "row has 5 fields but the header has 3; separate several labels with '|'": 1,
    }
    assert current(pool_ws) == {"p00": ["sport"], "p02": ["food"]}
    q = pool_ws.query("SELECT * FROM quarantine WHERE kind = 'labels' ORDER BY row")
    assert q.row.tolist() == [3, 4, 6, 7]  # CSV lines; the header is line 1
    assert q.id.tolist() == ["zzz", "p01", "", "p03"]
    assert q.reason.tolist() == [
        "unknown id 'zzz' (not in the pool)",
        "unknown label 'nope' (label set: sport, tech, food)",
        "missing id",
        "row has 5 fields but the header has 3; separate several labels with '|'",
    ]
    assert q.labels.tolist()[:2] == ["tech", "nope"]
    assert set(q.source) == {str(path)} and set(q.batch) == {report.batch}
    log = pool_ws.query("SELECT * FROM ingest_log WHERE kind = 'labels'").iloc[0]
    assert (log.n_rows, log.n_added, log.n_quarantined) == (6, 2, 4)


def test_a_file_whose_rows_are_all_rejected_is_logged(pool_ws, write_csv):
    # Regression: an empty set of good rows used to crash casting the empty events frame.
    report = import_label_file(pool_ws, write_csv("bad.csv", [("zzz", "sport"), ("p00", "x")]))
    assert counts(report) == (0, 0, 0, 0, 2)
    assert n_events(pool_ws) == 0
    assert pool_ws.scalar("SELECT count(*) FROM quarantine") == 2
    assert pool_ws.scalar("SELECT count(*) FROM ingest_log WHERE kind = 'labels'") == 1


def test_a_file_without_answers_is_logged(pool_ws, label_dir):
    (label_dir / "empty.json").write_text("[]")
    (label_dir / "open.json").write_text('[{"id": 1, "alflow_id": "p00", "text": "unanswered"}]')
    for name in ("empty.json", "open.json"):
        report = import_label_file(pool_ws, label_dir / name)
        assert report.n_rows == 0 and report.accepted == report.rejected == 0
    assert pool_ws.scalar("SELECT count(*) FROM ingest_log WHERE kind = 'labels'") == 2


# --- re-imports and dedupe ----------------------------------------------------------------


def test_same_file_twice_adds_nothing(pool_ws, write_csv, snapshot):
    path = write_csv("a.csv", [("p00", "sport"), ("zzz", "tech")])
    import_label_file(pool_ws, path)
    before = snapshot(pool_ws)
    again = import_label_file(pool_ws, path)
    assert again.file_seen_before and again.n_rows == 0 and again.accepted == 0
    assert "imported before" in again.summary()
    assert snapshot(pool_ws) == before


def test_cumulative_label_studio_export_adds_only_new_annotations(pool_ws, write_ls):
    first = {"p00": [(1, "sport", "a@x")], "p01": [(2, "tech", "a@x")]}
    import_label_file(pool_ws, write_ls("export-1.json", first))
    second = {**first, "p02": [(3, "food", "a@x")], "p01": [(2, "tech", "a@x"), (4, "food", "b@x")]}
    report = import_label_file(pool_ws, write_ls("export-2.json", second))
    assert report.already_imported == 2
    assert counts(report) == (1, 1, 0, 0, 0)  # p02 new; b's label of p01 changes it (latest)
    assert "(2 already imported)" in report.summary()
    assert n_events(pool_ws) == 4
    assert current(pool_ws) == {"p00": ["sport"], "p01": ["food"], "p02": ["food"]}

    # A re-export with nothing new (different bytes: reordered tasks) adds nothing either.
    third = {k: second[k] for k in ("p02", "p01", "p00")}
    report = import_label_file(pool_ws, write_ls("export-3.json", third))
    assert not report.file_seen_before and report.already_imported == 4
    assert counts(report) == (0, 0, 0, 0, 0)
    assert n_events(pool_ws) == 4


def test_two_annotators_disagreeing_show_up_in_disagreements(pool_ws, write_csv):
    import_label_file(pool_ws, write_csv("a.csv", [("p00", "sport", "alice"), ("p01", "tech")]))
    report = import_label_file(
        pool_ws, write_csv("b.csv", [("p00", "tech", "bob"), ("p01", "tech", "bob")])
    )
    assert counts(report) == (0, 1, 1, 0, 0)
    dis = pool_ws.query("SELECT * FROM disagreements")
    assert dis.id.tolist() == ["p00"] and dis.n_distinct.tolist() == [2]
    votes = {v["annotator"]: list(v["labels"]) for v in dis.votes.iloc[0]}
    assert votes == {"alice": ["sport"], "bob": ["tech"]}
    assert current(pool_ws)["p00"] == ["tech"]  # latest policy


def test_relabel_replaces_the_current_label(pool_ws, write_csv):
    import_label_file(pool_ws, write_csv("a.csv", [("p00", "sport")]))
    report = import_label_file(pool_ws, write_csv("b.csv", [("p00", "food")]))
    assert counts(report) == (0, 1, 0, 0, 0)
    assert current(pool_ws) == {"p00": ["food"]}
    row = pool_ws.query("SELECT n_events FROM current_labels WHERE id = 'p00'")
    assert row.n_events.tolist() == [2]


def test_a_skip_never_erases_a_label(pool_ws, write_csv, write_jsonl):
    import_label_file(pool_ws, write_csv("a.csv", [("p00", "sport")]))
    report = import_label_file(pool_ws, write_csv("b.csv", [("p00", "")]))
    assert counts(report) == (0, 0, 0, 1, 0)
    report = import_label_file(pool_ws, write_jsonl("c.jsonl", [{"id": "p00", "skipped": True}]))
    assert counts(report) == (0, 0, 0, 1, 0)
    assert current(pool_ws) == {"p00": ["sport"]}


# --- whole-file errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.csv", "id,label\np00,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("broken.json", b'[{"data": {"id": "p00"}, "annotations": [', "invalid JSON"),
        ("cols.csv", b"item,answer\np00,sport\n", "needs 'id' and 'label' columns"),
    ],
)
def test_whole_file_errors_raise_and_change_nothing(
    pool_ws, label_dir, snapshot, name, content, message
):
    before = snapshot(pool_ws)  # the pool and the eval labels are there already
    path = label_dir / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        import_label_file(pool_ws, path)
    assert snapshot(pool_ws) == before
    assert not (pool_ws.path / ".staging").exists() or not any(
        (pool_ws.path / ".staging").iterdir()
    )


def test_missing_file_raises(pool_ws, label_dir):
    with pytest.raises(InputFileError, match="no such file"):
        import_label_file(pool_ws, label_dir / "absent.csv")


# --- batch attribution --------------------------------------------------------------------


def test_events_of_exported_items_carry_their_batch_and_iteration(pool_ws, write_csv):
    settings = resolve_settings(pool_ws)
    plan = plan_iteration(pool_ws, settings)
    assert plan.mode == "initial"
    selection = select_batch(pool_ws, plan.iteration, None, settings)
    export_selection(pool_ws, plan.iteration, selection)
    record_iteration(pool_ws, plan, settings, utcnow(), status="initial", selection_path=selection)
    batch = [it["id"] for it in json.loads(selection.read_text())["items"]]
    outside = next(i for i in (f"p{k:02d}" for k in range(60)) if i not in batch)

    rows = [(batch[0], "sport"), (batch[1], ""), (outside, "tech")]
    report = import_label_file(pool_ws, write_csv("answers.csv", rows))
    assert counts(report) == (2, 0, 0, 1, 0)
    ev = pool_ws.query("SELECT id, batch_id, iteration FROM label_events WHERE source = 'queue'")
    ev = ev.set_index("id")
    for item in batch[:2]:
        assert ev.loc[item, "batch_id"] == "batch-0001"
        assert ev.loc[item, "iteration"] == 1
    assert ev.batch_id.isna()[outside] and ev.iteration.isna()[outside]


def test_the_latest_batch_of_an_item_wins(pool_ws, write_csv):
    """An item queried in two batches (appended to query_log directly) gets the newer one."""
    t = utcnow()
    with pool_ws.transaction() as tx:
        tx.append(
            "query_log",
            [
                {"iteration": 2, "batch_id": "batch-0002", "id": "p05", "rank": 0, "created_at": t},
                {"iteration": 1, "batch_id": "batch-0001", "id": "p05", "rank": 0, "created_at": t}
                | {"created_at": t.replace(year=t.year - 1)},
            ],
        )
    import_label_file(pool_ws, write_csv("a.csv", [("p05", "food")]))
    ev = pool_ws.query("SELECT batch_id, iteration FROM label_events WHERE id = 'p05'")
    assert ev.batch_id.tolist() == ["batch-0002"] and ev.iteration.tolist() == [2]


def test_edited_label_studio_annotation_is_imported_as_a_change(pool_ws, label_dir):
    """Label Studio keeps an annotation's id on edit; its updated_at marks the new version."""

    def export(name, label, updated):
        task = {
            "id": 1,
            "data": {"id": "p00", "text": "t"},
            "annotations": [
                {
                    "id": 9,
                    "completed_by": {"email": "a@x"},
                    "updated_at": updated,
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
            ],
        }
        path = label_dir / name
        path.write_text(json.dumps([task]), encoding="utf-8")
        return path

    import_label_file(pool_ws, export("v1.json", "sport", "2025-01-01T10:00:00Z"))
    report = import_label_file(pool_ws, export("v2.json", "tech", "2025-01-01T11:00:00Z"))
    assert counts(report) == (0, 1, 0, 0, 0)
    assert current(pool_ws) == {"p00": ["tech"]}
    again = import_label_file(pool_ws, export("v3.json", "tech", "2025-01-01T11:00:00Z"))
    assert again.file_seen_before and n_events(pool_ws) == 2


# --- label identity and which label is newest (issue 6, item 3) ---------------------------


def ls_annotation(ann_id, label, who, updated):
    return {
        "id": ann_id,
        "completed_by": {"email": who},
        "created_at": updated,
        "updated_at": updated,
        "result": [
            {
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [label]},
            }
        ],
    }


def test_resaved_csv_adds_nothing_and_cannot_undo_a_newer_relabel(pool_ws, write_csv, label_dir):
    old = write_csv("old.csv", [("p00", "sport"), ("p01", "tech")])
    import_label_file(pool_ws, old)
    import_label_file(pool_ws, write_csv("relabel.csv", [("p00", "food")]))
    assert current(pool_ws) == {"p00": ["food"], "p01": ["tech"]}
    # The old file, opened and saved again: CRLF line ends, a byte-order mark, rows reordered.
    resaved = label_dir / "old-resaved.csv"
    resaved.write_bytes(b"\xef\xbb\xbfid,label,annotator\r\np01,tech,ann\r\np00,sport,ann\r\n")
    report = import_label_file(pool_ws, resaved)
    assert not report.file_seen_before and report.already_imported == 2
    assert report.outdated_repeats == 1  # p00's sport was since changed by the same annotator
    assert counts(report) == (0, 0, 0, 0, 0) and report.items_changed == 0
    assert "1 of them repeat a label their annotator has since changed" in report.summary()
    assert current(pool_ws) == {"p00": ["food"], "p01": ["tech"]}
    assert n_events(pool_ws) == 3


def test_json_and_json_min_exports_of_one_state_give_the_same_label(pool_ws, label_dir, tmp_path):
    import shutil

    from al_core.storage import Workspace

    early, late = "2025-03-01T10:00:00.000000Z", "2025-03-01T11:30:00.000000Z"
    full = [  # Label Studio's JSON export lists a task's annotations oldest first
        {
            "id": 1000,
            "data": {"id": "p00", "alflow_id": "p00", "text": "t"},
            "annotations": [
                ls_annotation(1, "sport", "a@x", early),
                ls_annotation(2, "tech", "b@x", late),
            ],
        }
    ]
    minimal = [  # JSON-MIN lists them newest first
        {"id": 1000, "alflow_id": "p00", "label": "tech", "annotator": "b@x",
         "annotation_id": 2, "created_at": late, "updated_at": late},
        {"id": 1000, "alflow_id": "p00", "label": "sport", "annotator": "a@x",
         "annotation_id": 1, "created_at": early, "updated_at": early},
    ]  # fmt: skip
    (label_dir / "full.json").write_text(json.dumps(full))
    (label_dir / "min.json").write_text(json.dumps(minimal))
    shutil.copytree(pool_ws.path, tmp_path / "twin")
    twin = Workspace.open(tmp_path / "twin")
    import_label_file(pool_ws, label_dir / "full.json")
    import_label_file(twin, label_dir / "min.json")
    assert current(pool_ws) == current(twin) == {"p00": ["tech"]}
    # Both exports carry the same annotations: importing the other one adds nothing.
    assert import_label_file(pool_ws, label_dir / "min.json").already_imported == 2


def test_an_older_export_imported_later_does_not_undo_a_relabel(pool_ws, label_dir):
    def export(name, label, updated):
        task = {
            "id": 1,
            "data": {"id": "p00"},
            "annotations": [ls_annotation(9, label, "a@x", updated)],
        }
        (label_dir / name).write_text(json.dumps([task]))
        return label_dir / name

    import_label_file(pool_ws, export("v2.json", "tech", "2025-01-01T11:00:00Z"))
    report = import_label_file(pool_ws, export("v1.json", "sport", "2025-01-01T10:00:00Z"))
    assert counts(report) == (0, 0, 0, 0, 0) and report.overruled == 1
    assert "1 kept in the history but older than the current label" in report.summary()
    assert current(pool_ws) == {"p00": ["tech"]}
    times = pool_ws.query("SELECT annotated_at FROM label_events WHERE source = 'queue'")
    assert sorted(str(t) for t in times.annotated_at) == [
        "2025-01-01 10:00:00+00:00",
        "2025-01-01 11:00:00+00:00",
    ]


def test_a_timed_relabel_back_to_an_old_label_is_applied(pool_ws, write_jsonl):
    """With times, a revert is a new annotation, not a repeat of the first one."""
    rows = [
        {"id": "p00", "label": "sport", "annotator": "al", "updated_at": "2025-01-01T10:00:00Z"},
        {"id": "p00", "label": "food", "annotator": "al", "updated_at": "2025-01-01T11:00:00Z"},
    ]
    import_label_file(pool_ws, write_jsonl("a.jsonl", rows))
    assert current(pool_ws) == {"p00": ["food"]}
    back = [
        {"id": "p00", "label": "sport", "annotator": "al", "updated_at": "2025-01-01T12:00:00Z"}
    ]
    report = import_label_file(pool_ws, write_jsonl("b.jsonl", back))
    assert counts(report) == (0, 1, 0, 0, 0) and current(pool_ws) == {"p00": ["sport"]}


def test_import_label_rows_takes_annotations_from_any_source(pool_ws):
    from datetime import UTC, datetime

    from al_core.pipeline import import_label_rows
    from al_core.queues import LabelRow, label_rows

    when = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    rows = label_rows(
        [
            LabelRow(row=1, key="ls-annotation:71@x", id="p00", labels=["food"], annotated_at=when),
            LabelRow(row=2, id="p01", labels=["tech"], annotator="bo"),
            LabelRow(row=3, id="nope", labels=["tech"]),
        ]
    )
    report = import_label_rows(pool_ws, rows, origin="http://ls.example/project/3")
    assert counts(report) == (2, 0, 0, 0, 1) and report.file_sha256 is None
    ev = pool_ws.query(
        "SELECT id, external_key, annotated_at FROM label_events WHERE source = 'queue' ORDER BY id"
    )
    assert ev.external_key[0] == "ls-annotation:71@x" and ev.external_key[1].startswith("content:")
    assert ev.annotated_at[0] == when and ev.annotated_at.isna()[1]
    q = pool_ws.query("SELECT source, reason FROM quarantine").iloc[0]
    assert (q.source, q.reason) == (
        "http://ls.example/project/3",
        "unknown id 'nope' (not in the pool)",
    )
    # The same rows again (a poll that sees them twice) add nothing.
    again = import_label_rows(pool_ws, rows, origin="http://ls.example/project/3")
    assert again.already_imported == 2 and again.accepted == 0
