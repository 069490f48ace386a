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
