import json

import pandas as pd
import pytest

from al_core.errors import InputFileError
from al_core.ingest import ingest_file
from al_core.storage import Workspace, workspace_status


def _snapshot(ws):
    return {
        t: ws.query(f"SELECT * FROM {t}").to_json(date_format="iso")
        for t in ("pool", "label_events", "quarantine")
    }


def test_ingest_trec_stores_texts_and_import_labels(make_workspace, trec_dir):
    from tests.conftest import TREC_LABELS

    ws = make_workspace(labels=TREC_LABELS)
    report = ingest_file(ws, trec_dir / "train.parquet")
    assert report.n_rows == 5452
    assert report.n_added + report.n_duplicates == 5452
    assert report.n_quarantined == 0
    st = workspace_status(ws)
    assert st["pool_size"] == report.n_added
    assert st["labelled"] == report.n_added
    assert sum(st["label_counts"].values()) == report.n_added
    src = ws.query("SELECT DISTINCT source, annotator FROM label_events")
    assert src.source.tolist() == ["import"]


def test_same_file_twice_adds_nothing(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "f.csv").write_text("text,label\nhello,pos\nbye,neg\n")
    first = ingest_file(ws, tmp_path / "f.csv")
    before = _snapshot(ws)
    second = ingest_file(ws, tmp_path / "f.csv")
    assert first.n_added == 2 and second.already_ingested
    assert "already ingested" in second.summary()
    assert _snapshot(ws) == before


def test_overlapping_files_do_not_duplicate_rows_or_labels(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "a.csv").write_text("id,text,label\n1,hello,pos\n2,bye,neg\n")
    (tmp_path / "b.csv").write_text("id,text,label\n2,bye,neg\n3,new,\n")
    ingest_file(ws, tmp_path / "a.csv")
    report = ingest_file(ws, tmp_path / "b.csv")
    assert (report.n_added, report.n_duplicates, report.n_labels) == (1, 1, 0)
    assert ws.scalar("SELECT count(*) FROM label_events") == 2
    assert workspace_status(ws)["unlabelled"] == 1


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_stored(make_workspace, tmp_path):
    ws = make_workspace(max_text_chars=50)
    (tmp_path / "seed.csv").write_text("id,text\nkeep,original text\n")
    ingest_file(ws, tmp_path / "seed.csv")
    rows = [
        {"id": "ok1", "text": "fine text", "label": "pos"},
        {"id": "ok2", "text": "  padded  ", "label": ""},
        {"id": "empty", "text": "   ", "label": "pos"},
        {"id": "long", "text": "x" * 51, "label": "neg"},
        {"id": "dup", "text": "first", "label": "pos"},
        {"id": "dup", "text": "second", "label": "pos"},
        {"id": "keep", "text": "changed text", "label": "pos"},
        {"id": "badlabel", "text": "whatever", "label": "maybe"},
        {"id": "", "text": "no id", "label": "neg"},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "mixed.csv", index=False)
    report = ingest_file(ws, tmp_path / "mixed.csv")
    assert report.n_added == 2 and report.n_quarantined == 7
    q = ws.query("SELECT id, reason, row FROM quarantine ORDER BY row")
    reasons = dict(zip(q.row, q.reason, strict=True))
    assert reasons[3] == "text is empty"
    assert reasons[4] == "text has 51 characters, above the limit of 50"
    assert "appears 2 times" in reasons[5] and "appears 2 times" in reasons[6]
    assert reasons[7] == "id 'keep' is already in the pool with different text"
    assert reasons[8] == "unknown label 'maybe' (label set: pos, neg)"
    assert reasons[9] == "id is missing"
    stored = ws.query("SELECT id, text FROM pool ORDER BY id")
    assert dict(zip(stored.id, stored.text, strict=True)) == {
        "keep": "original text",
        "ok1": "fine text",
        "ok2": "padded",
    }
    assert ws.query("SELECT id FROM current_labels").id.tolist() == ["ok1"]


def test_multi_label_rows(make_workspace, tmp_path):
    ws = make_workspace(labels=["a", "b", "c"], multi_label=True)
    (tmp_path / "m.jsonl").write_text(
        json.dumps({"text": "one", "label": "a|b"})
        + "\n"
        + json.dumps({"text": "two", "label": ["c"]})
        + "\n"
        + json.dumps({"text": "three", "label": "a|zzz"})
        + "\n"
    )
    report = ingest_file(ws, tmp_path / "m.jsonl")
    assert report.n_added == 2 and report.n_quarantined == 1
    labels = ws.query("SELECT labels FROM current_labels ORDER BY id").labels
    assert sorted(sorted(x) for x in labels) == [["a", "b"], ["c"]]
    assert workspace_status(ws)["label_counts"] == {"a": 1, "b": 1, "c": 1}


def test_single_label_task_rejects_label_list(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "s.jsonl").write_text(json.dumps({"text": "x", "label": ["pos", "neg"]}) + "\n")
    ingest_file(ws, tmp_path / "s.jsonl")
    assert ws.query("SELECT reason FROM quarantine").reason.tolist() == [
        "2 labels for a single-label task: pos, neg"
    ]


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (b"id,body\n1,x\n", {}, "no text column 'text'; the columns are: id, body"),
        (b"id,text\n1,x\n", {"label_column": "gold"}, "no label column 'gold'"),
        (b"text\nx\n", {"id_column": "uid"}, "no id column 'uid'"),
        ("text\ncaf\xe9\n".encode("latin-1"), {}, "not valid utf-8"),
    ],
)
def test_unreadable_input_changes_nothing(make_workspace, tmp_path, content, kwargs, message):
    ws = make_workspace()
    (tmp_path / "ok.csv").write_text("text,label\nkept,pos\n")
    ingest_file(ws, tmp_path / "ok.csv")
    before = _snapshot(ws)
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        ingest_file(ws, tmp_path / "bad.csv", **kwargs)
    assert _snapshot(ws) == before
    assert Workspace.open(ws.path).scalar("SELECT count(*) FROM ingest_log") == 1


def test_derived_ids_are_deterministic(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "a.csv").write_text("text\nsame text\n")
    (tmp_path / "b.tsv").write_text("text\tother\nsame text\tz\n")
    ingest_file(ws, tmp_path / "a.csv")
    report = ingest_file(ws, tmp_path / "b.tsv")
    assert report.n_duplicates == 1 and report.n_added == 0
    (only_id,) = ws.query("SELECT id FROM pool").id
    assert only_id.startswith("t") and len(only_id) == 17


def test_eval_role_is_held_out(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "t.csv").write_text("text,label\nheld out,pos\n")
    ingest_file(ws, tmp_path / "t.csv", role="eval")
    st = workspace_status(ws)
    assert (st["pool_size"], st["eval_size"], st["labelled"]) == (0, 1, 0)


# --- evaluation data never becomes training data (issue 6, item 2) ------------------------


def test_eval_ingest_of_an_id_already_in_the_pool_is_a_reported_role_conflict(
    make_workspace, tmp_path
):
    ws = make_workspace()
    (tmp_path / "train.csv").write_text("text,label\nshared question,pos\ntrain only,neg\n")
    (tmp_path / "test.csv").write_text("text,label\nshared question,neg\ntest only,pos\n")
    ingest_file(ws, tmp_path / "train.csv")
    report = ingest_file(ws, tmp_path / "test.csv", role="eval")
    assert (report.n_added, report.n_labels, report.n_quarantined) == (1, 1, 1)
    assert report.reasons == {"role conflict": 1}
    (reason,) = ws.query("SELECT reason FROM quarantine").reason
    assert reason.startswith("role conflict: id 't") and "a training item (role pool)" in reason
    # The eval label of the shared question did not become a training label.
    events = ws.query("SELECT e.id, e.labels, p.role FROM label_events e JOIN pool p USING (id)")
    assert sorted((r, list(ls)) for r, ls in zip(events.role, events.labels, strict=True)) == [
        ("eval", ["pos"]),
        ("pool", ["neg"]),
        ("pool", ["pos"]),
    ]
    st = workspace_status(ws)
    assert (st["pool_size"], st["eval_size"], st["labelled"], st["quarantined"]) == (2, 1, 2, 1)


def test_role_conflicts_by_id_or_text_either_way_round(make_workspace, tmp_path):
    ws = make_workspace()
    (tmp_path / "eval.csv").write_text("id,text,label\ne1,held out,pos\ne2,also held out,neg\n")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")
    (tmp_path / "pool.csv").write_text("id,text\ne1,held out\np9,also held out\np1,fresh\n")
    report = ingest_file(ws, tmp_path / "pool.csv")
    assert (report.n_added, report.n_quarantined) == (1, 2)
    q = ws.query("SELECT id, reason FROM quarantine ORDER BY row")
    assert q.reason.tolist() == [
        "role conflict: id 'e1' is already an evaluation item (role eval); "
        "evaluation data must never be trained on",
        "role conflict: the same text is already an evaluation item (role eval) (id 'e2'); "
        "evaluation data must never be trained on",
    ]
    assert ws.query("SELECT id FROM pool WHERE role = 'pool'").id.tolist() == ["p1"]


def test_tfidf_is_fitted_on_training_texts_only(make_workspace, tmp_path):
    from al_core.pipeline import load_model, train_model

    ws = make_workspace()
    (tmp_path / "pool.csv").write_text("text,label\nalpha beta,pos\ngamma delta,neg\n")
    (tmp_path / "eval.csv").write_text("text,label\nzebra quokka,pos\n")
    ingest_file(ws, tmp_path / "pool.csv")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")
    model = load_model(train_model(ws, 1, classifier="logreg", embedder="tfidf"))
    vocabulary = set(model.embedder.vocabulary)
    assert {"alpha", "delta"} <= vocabulary
    assert not vocabulary & {"zebra", "quokka"}


# --- cells that are not text (issue 6, item 4) --------------------------------------------


def test_non_text_cells_are_quarantined_not_stringified(make_workspace, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ws = make_workspace(labels=["a", "b"], multi_label=True)
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 4, None, 6], pa.int64()),
            "text": ["fine", "also fine", "nul\x00inside", "ok", "no id", "x"],
            "label": pa.array([["a", "b"], ["a"], None, None, None, None], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, tmp_path / "lists.parquet")
    report = ingest_file(ws, tmp_path / "lists.parquet")
    assert (report.n_added, report.n_labels, report.n_quarantined) == (4, 2, 2)
    stored = ws.query("SELECT id, text FROM pool ORDER BY id")
    assert dict(zip(stored.id, stored.text, strict=True)) == {
        "1": "fine",
        "2": "also fine",
        "4": "ok",
        "6": "x",
    }  # fmt: skip  (integer ids become "1", not "1.0")
    labels = ws.query("SELECT id, labels FROM label_events ORDER BY id")
    assert [list(x) for x in labels.labels] == [["a", "b"], ["a"]]
    q = ws.query("SELECT row, reason FROM quarantine ORDER BY row")
    assert q.reason.tolist() == ["text contains a NUL character (\\x00)", "id is missing"]

    (tmp_path / "odd.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "f", "text": 1.5},
                {"id": "l", "text": ["a", "b"]},
                {"id": "d", "text": {"k": 1}},
                {"id": "b", "text": True},
                {"id": 2.5, "text": "float id"},
                {"id": "lab", "text": "float label", "label": 1.0},
                {"id": "good", "text": "kept", "label": "b"},
            ]
        )
    )
    report = ingest_file(ws, tmp_path / "odd.jsonl")
    assert (report.n_added, report.n_quarantined) == (1, 6)
    assert report.reasons == {"cell is not text": 6}
    q = ws.query("SELECT reason FROM quarantine WHERE row > 0 ORDER BY quarantine_id")
    assert q.reason.tolist()[2:] == [
        "text is a number, not a string: 1.5",
        "text is a list, not a string: ['a', 'b']",
        "text is an object, not a string: {'k': 1}",
        "text is a boolean, not a string: True",
        "id is a number, not a string: 2.5",
        "label is a number, not a string: 1.0",
    ]
    assert "1.5" not in set(ws.query("SELECT text FROM pool").text)


# --- validation outside the lock, commit inside it (issue 6, item 8) ----------------------

_TRY_LOCK = """
import sys
from al_core.errors import WorkspaceError
from al_core.storage import Workspace
try:
    with Workspace.open(sys.argv[1]).lock(timeout=0):
        pass
except WorkspaceError:
    sys.exit(3)
"""


def test_rows_are_validated_without_holding_the_workspace_lock(
    make_workspace, tmp_path, monkeypatch
):
    import subprocess
    import sys

    import al_core.ingest.ingest as ingest_module

    ws = make_workspace()
    (tmp_path / "a.csv").write_text("id,text\n1,one\n2,two\n")
    seen = []
    real = ingest_module.run_checks

    def checks_while_probing(*args, **kwargs):
        # Another process tries to take the writer lock while great-expectations runs.
        probe = subprocess.run([sys.executable, "-c", _TRY_LOCK, str(ws.path)], timeout=120)
        seen.append(probe.returncode)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "run_checks", checks_while_probing)
    assert ingest_file(ws, tmp_path / "a.csv").n_added == 2
    assert seen == [0]  # the lock was free: other writers need not wait for validation


def test_what_a_concurrent_ingest_stored_meanwhile_is_checked_at_commit(
    make_workspace, tmp_path, monkeypatch
):
    import al_core.ingest.ingest as ingest_module

    ws = make_workspace()
    (tmp_path / "a.csv").write_text("id,text,label\nx1,one,pos\nx2,two,pos\nx3,three,neg\n")
    (tmp_path / "b.csv").write_text("id,text\nx2,two\nx3,another three\n")
    (tmp_path / "c.csv").write_text("id,text\nc1,seen twice\n")
    real = ingest_module.run_checks
    meanwhile: list = []

    def checks_then_concurrent_ingest(*args, **kwargs):
        result = real(*args, **kwargs)
        if meanwhile:  # while the first ingest is between validation and commit
            other = Workspace.open(ws.path)
            for path in meanwhile.pop():
                ingest_file(other, path)
        return result

    monkeypatch.setattr(ingest_module, "run_checks", checks_then_concurrent_ingest)
    meanwhile.append([tmp_path / "b.csv"])
    report = ingest_file(ws, tmp_path / "a.csv")
    assert (report.n_added, report.n_duplicates, report.n_quarantined) == (1, 1, 1)
    (reason,) = ws.query("SELECT reason FROM quarantine").reason
    assert reason == "id 'x3' is already in the pool with different text"
    pool = ws.query("SELECT id, text FROM pool ORDER BY id")
    assert pool.id.tolist() == ["x1", "x2", "x3"] and pool.text.tolist()[2] == "another three"

    # The same file ingested by someone else meanwhile: the first ingest adds nothing.
    meanwhile.append([tmp_path / "c.csv"])
    again = ingest_file(ws, tmp_path / "c.csv")
    assert again.already_ingested and again.n_added == 0
    assert ws.scalar("SELECT count(*) FROM pool WHERE id = 'c1'") == 1
