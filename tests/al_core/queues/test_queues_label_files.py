"""Parsing label files: Label Studio JSON / JSON-MIN, CSV, JSONL, and their errors."""

import json

import pytest

from al_core.labels import LabelSet
from al_core.queues import (
    LABEL_ROW_COLUMNS,
    ExportBatch,
    ExportItem,
    LabelFileError,
    content_key,
    read_label_file,
    to_ls_tasks,
)

SENTIMENT = LabelSet(["pos", "neg", "neutral"])
TOPICS = LabelSet(["sports", "politics", "tech"], multi_label=True)


def _ann(ann_id, choices, completed_by=1, cancelled=False):
    result = []
    if choices is not None:
        result = [
            {
                "id": f"r{ann_id}",
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": choices},
            }
        ]
    return {
        "id": ann_id,
        "completed_by": completed_by,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": "2025-05-02T09:10:11.123456Z",
        "updated_at": "2025-05-02T09:10:11.123456Z",
        "lead_time": 4.2,
        "task": 101,
        "project": 7,
    }


# A full Label Studio JSON export, written the way Label Studio writes one.
FULL_EXPORT = [
    {
        "id": 101,
        "data": {"id": "007", "alflow_id": "007", "text": "Great phone"},
        "meta": {"batch_id": "it-0001", "rank": 1, "iteration": 1},
        "annotations": [
            _ann(9001, ["pos"], completed_by=1),
            _ann(9002, ["neutral"], completed_by={"id": 2, "email": "bo@example.org"}),
        ],
        "drafts": [],
        "predictions": [{"model_version": "m-1", "result": []}],
        "project": 7,
        "created_at": "2025-05-01T08:00:00Z",
    },
    {
        "id": 102,
        "data": {"id": "42", "text": "No idea"},
        "annotations": [_ann(9003, None, cancelled=True)],
    },
    {"id": 103, "data": {"id": "43", "text": "Not answered yet"}, "annotations": []},
    {
        "id": 104,
        "data": {"alflow_id": " 44 ", "text": "Both"},
        "annotations": [_ann(9004, ["pos", "neg"])],
    },
    {"id": 105, "data": {"id": "45", "text": "Empty result"}, "annotations": [_ann(9005, None)]},
]


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    return path


def test_columns_and_dtypes(tmp_path):
    df = read_label_file(_write(tmp_path, "a.csv", "id,label\n1,pos\n"))
    assert tuple(df.columns) == LABEL_ROW_COLUMNS
    assert df.dtypes["skipped"] == "bool" and df.dtypes["row"] == "int64"
    assert df["id"].dtype == "str" and df["external_key"].dtype == "str"
    assert df.attrs["format"] == "csv"
    assert df.loc[0, "error"] is None


def test_label_studio_full_export(tmp_path):
    df = read_label_file(_write(tmp_path, "export.json", FULL_EXPORT))
    assert df.attrs["format"] == "labelstudio-json"
    assert df["id"].tolist() == ["007", "007", "42", "44", "45"]
    assert df["labels"].tolist() == [["pos"], ["neutral"], [], ["pos", "neg"], []]
    assert df["annotator"].tolist() == ["1", "bo@example.org", "1", "1", "1"]
    assert df["skipped"].tolist() == [False, False, True, False, True]
    # Label Studio keeps an annotation's id when it is edited; updated_at tells the versions apart.
    stamp = "2025-05-02T09:10:11.123456Z"
    assert df["external_key"].tolist() == [f"ls-annotation:{i}@{stamp}" for i in range(9001, 9006)]
    assert df["row"].tolist() == [1, 2, 3, 4, 5]
    assert df["error"].isna().all()


def test_label_studio_full_export_with_label_set(tmp_path):
    df = read_label_file(_write(tmp_path, "export.json", FULL_EXPORT), SENTIMENT)
    errors = dict(zip(df["id"], df["error"], strict=True))
    assert errors["44"] == "single-label task got 2 labels: 'pos', 'neg'"
    assert errors["42"] is None and errors["45"] is None  # skipped rows are not label-checked
    multi = read_label_file(_write(tmp_path, "export.json", FULL_EXPORT), TOPICS)
    assert multi.loc[0, "error"] == "unknown label 'pos' (label set: sports, politics, tech)"


def test_label_studio_full_export_bad_records(tmp_path):
    no_id_ann = _ann(None, ["pos"])
    del no_id_ann["id"], no_id_ann["completed_by"]
    export = [
        "not a task",
        {"data": {"text": "no id"}, "annotations": [_ann(1, ["pos"])]},
        {"data": {"id": "5"}, "annotations": [_ann(2, [7])]},
        {"data": {"id": "6"}, "annotations": [no_id_ann]},
        {
            "data": {"id": "8"},
            "annotations": [{"id": 3, "result": [{"type": "textarea", "value": {"text": ["hm"]}}]}],
        },
    ]
    path = _write(tmp_path, "bad.json", export)
    df = read_label_file(path)
    assert df["error"].tolist() == [
        "task 1 is not a JSON object",
        "missing id (task 2, annotation 1)",
        "label 7 is not a string (task 3, annotation 1)",
        None,
        "no label: the annotation has no 'choices' result (task 5, annotation 1)",
    ]
    row = df.iloc[3]
    assert row["annotator"] == "unknown" and row["labels"] == ["pos"]
    # No annotation id: the row is known by its content, time included.
    stamp = "2025-05-02T09:10:11.123456Z"
    assert row["external_key"] == content_key("6", ["pos"], "unknown", False, stamp)


def test_json_min_export(tmp_path):
    records = [
        # Exported from to_ls_tasks tasks: LS's task id took "id", our id survives as alflow_id.
        {
            "id": 101,
            "alflow_id": "007",
            "text": "Great phone",
            "label": "pos",
            "annotator": "al@example.org",
            "annotation_id": 9001,
            "lead_time": 3.1,
        },
        {
            "id": 102,
            "alflow_id": "42",
            "text": "x",
            "label": {"choices": ["pos", "neg"]},
            "annotator": "bo@example.org",
            "annotation_id": 9002,
        },
        {"id": 103, "alflow_id": "43", "text": "Not answered yet"},
        # Hand-loaded tasks without alflow_id: the top-level id is read.
        {"id": "a-9", "text": "y", "label": " neutral ", "annotator": 3},
        {"id": 104, "alflow_id": "46", "text": "skipped", "annotator": 3, "annotation_id": 9005},
        {"id": 105, "alflow_id": "47", "label": 5, "annotation_id": 9006},
    ]
    df = read_label_file(_write(tmp_path, "min.json", records), SENTIMENT)
    assert df.attrs["format"] == "labelstudio-json-min"
    assert df["id"].tolist() == ["007", "42", "a-9", "46", "47"]
    assert df["labels"].tolist() == [["pos"], ["pos", "neg"], ["neutral"], [], []]
    assert df["annotator"].tolist() == ["al@example.org", "bo@example.org", "3", "3", "unknown"]
    assert df["skipped"].tolist() == [False, False, False, True, False]
    assert df["row"].tolist() == [1, 2, 4, 5, 6]
    assert df["external_key"].tolist() == [
        "ls-annotation:9001",
        "ls-annotation:9002",
        content_key("a-9", ["neutral"], "3", False, None),
        "ls-annotation:9005",
        "ls-annotation:9006",
    ]
    assert df["error"].tolist() == [
        None,
        "single-label task got 2 labels: 'pos', 'neg'",
        None,
        None,
        "label is not a string, a list or {'choices': [...]}",
    ]


def test_round_trip_from_exported_batch(tmp_path):
    batch = ExportBatch(
        "it-2",
        2,
        "m-2",
        [ExportItem("007", "a", 0.5, 1, ["pos"]), ExportItem("8", "b", 0.4, 2, ["neg"])],
    )
    tasks = to_ls_tasks(batch)
    for n, task in enumerate(tasks):
        # An annotator accepts the pre-annotation of the first task, corrects the second.
        choice = task["predictions"][0]["result"][0]["value"]["choices"] if n == 0 else ["neutral"]
        task["annotations"] = [_ann(500 + n, choice, completed_by=4)]
        task["id"] = 900 + n
    df = read_label_file(_write(tmp_path, "project-1.json", tasks), SENTIMENT)
    assert df[["id", "annotator"]].values.tolist() == [["007", "4"], ["8", "4"]]
    assert df["labels"].tolist() == [["pos"], ["neutral"]]
    assert df["error"].isna().all()


def test_csv_multi_label_and_skips(tmp_path):
    content = (
        "\ufeffID , Label,annotator\n"
        "007,sports | tech,al\n"
        " 008 ,,bo\n"
        "\n"
        '009,"politics",\n'
        "010,sports||tech,al\n"
        ",tech,al\n"
        "011,sports,al,extra\n"
        "012\n"
        "013,cooking,al\n"
    )
    df = read_label_file(_write(tmp_path, "labels.csv", content), TOPICS)
    assert df["id"].tolist() == ["007", "008", "009", "010", "", "011", "012", "013"]
    # Rows that fail the label-set check keep what was parsed, for the error report.
    expected = [["sports", "tech"], [], ["politics"], [], [], [], [], ["cooking"]]
    assert df["labels"].tolist() == expected
    assert df["skipped"].tolist() == [False, True, False, False, False, False, False, False]
    assert df["annotator"].tolist() == ["al", "bo", "unknown", "al", "al", "al", "unknown", "al"]
    assert df["row"].tolist() == [2, 3, 5, 6, 7, 8, 9, 10]
    assert df["error"].tolist() == [
        None,
        None,
        None,
        "empty label in 'sports||tech'",
        "missing id",
        "row has 4 fields but the header has 3; separate several labels with '|'",
        "row has 1 field but the header has 3",
        "unknown label 'cooking' (label set: sports, politics, tech)",
    ]


def test_csv_keeps_ids_as_strings(tmp_path):
    df = read_label_file(_write(tmp_path, "l.csv", "label,id\npos,007\nneg,1e3\n"))
    assert df["id"].tolist() == ["007", "1e3"]


def test_jsonl_with_broken_line(tmp_path):
    lines = [
        '{"id": "007", "label": "pos", "annotator": "al"}',
        "",
        '{"id": "8", "label": ["sports", "tech"]}',
        '{"id": "9", "label": "pos"',
        '{"id": 10, "skipped": true}',
        '{"id": "11"}',
        '{"id": "12", "label": 3}',
        "[1, 2]",
        '{"label": "pos"}',
        '{"id": "13", "label": "", "annotator": "bo"}',
        '{"id": "14", "label": "a\u2028b", "skipped": "yes"}',
    ]
    df = read_label_file(_write(tmp_path, "labels.jsonl", "\n".join(lines) + "\n"))
    assert df["row"].tolist() == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert df["id"].tolist() == ["007", "8", "", "10", "11", "12", "", "", "13", "14"]
    assert df["labels"].tolist()[:2] == [["pos"], ["sports", "tech"]]
    assert df["skipped"].tolist() == [False, False, False, True] + [False] * 4 + [True, False]
    errors = df["error"].tolist()
    assert errors[0] is None and errors[1] is None and errors[3] is None and errors[8] is None
    assert errors[2].startswith("invalid JSON at column")
    assert errors[4:8] == [
        "no label",
        "label is not a string or a list of strings",
        "line is not a JSON object",
        "missing id",
    ]
    assert errors[9] == "'skipped' is not true or false"


def test_ndjson_extension(tmp_path):
    df = read_label_file(_write(tmp_path, "l.NDJSON", '{"id": "1", "label": "pos"}\r\n'))
    assert df.attrs["format"] == "jsonl" and df["labels"].tolist() == [["pos"]]


def test_external_key_is_content_based_not_file_based(tmp_path):
    path = _write(tmp_path, "l.csv", "id,label,annotator\n1,pos,al\n2,neg|pos,al\n")
    first = read_label_file(path)["external_key"].tolist()
    assert len(set(first)) == 2 and all(k.startswith("content:") for k in first)
    # Re-saved with CRLF line ends, a byte-order mark, rows and labels reordered: same keys.
    resaved = b"\xef\xbb\xbfid,label,annotator\r\n2,pos|neg,al\r\n1,pos,al\r\n"
    again = read_label_file(_write(tmp_path, "resaved.csv", resaved))
    assert again["external_key"].tolist() == first[::-1]
    jsonl = '{"id": "1", "label": "pos", "annotator": "al"}\n'
    assert read_label_file(_write(tmp_path, "l.jsonl", jsonl))["external_key"][0] == first[0]
    # What the row says changes the key: the label, the annotator, a skip, the time.
    for other in ("1,neg,al", "1,pos,bo", "1,,al"):
        changed = read_label_file(_write(tmp_path, "c.csv", f"id,label,annotator\n{other}\n"))
        assert changed["external_key"][0] != first[0]
    timed = _write(tmp_path, "t.csv", "id,label,annotator,created_at\n1,pos,al,2025-01-01\n")
    assert read_label_file(timed)["external_key"][0] != first[0]


def test_annotation_times_are_read_where_the_format_has_them(tmp_path):
    df = read_label_file(_write(tmp_path, "export.json", FULL_EXPORT))
    assert df["annotated_at"].dt.tz is not None
    assert str(df["annotated_at"][0]) == "2025-05-02 09:10:11.123456+00:00"
    records = [
        {"id": 1, "alflow_id": "a", "label": "pos", "annotation_id": 5,
         "created_at": "2025-01-01T10:00:00Z", "updated_at": "2025-01-02T10:00:00+02:00"},
        {"id": 2, "alflow_id": "b", "label": "pos", "annotation_id": 6},
    ]  # fmt: skip
    df = read_label_file(_write(tmp_path, "min.json", records))
    assert str(df["annotated_at"][0]) == "2025-01-02 08:00:00+00:00"  # updated_at, in UTC
    assert df["annotated_at"].isna().tolist() == [False, True]
    csv_text = (
        "id,label,created_at,updated_at\n"
        "1,pos,2025-01-01T00:00:00Z,\n"  # no updated_at: created_at
        "2,pos,,2025-03-01 12:30\n"  # a time without a zone is UTC
        "3,pos,,\n"
        "4,pos,yesterday,\n"
    )
    df = read_label_file(_write(tmp_path, "t.csv", csv_text))
    assert [str(t) for t in df["annotated_at"][:2]] == [
        "2025-01-01 00:00:00+00:00",
        "2025-03-01 12:30:00+00:00",
    ]
    assert df["annotated_at"].isna().tolist() == [False, False, True, True]
    assert df["error"].tolist() == [None, None, None, "time 'yesterday' is not an ISO 8601 time"]
    lines = '{"id": "1", "label": "pos", "annotated_at": "2025-02-02T02:02:02Z"}\n'
    lines += '{"id": "2", "label": "pos", "created_at": 1700000000}\n'
    df = read_label_file(_write(tmp_path, "t.jsonl", lines))
    assert str(df["annotated_at"][0]) == "2025-02-02 02:02:02+00:00"
    assert df["error"][1] == "time 1700000000 is not an ISO 8601 string"


def test_nul_characters_in_ids_and_labels_are_row_errors(tmp_path):
    lines = '{"id": "a\\u0000b", "label": "pos"}\n{"id": "c", "label": "p\\u0000s"}\n'
    df = read_label_file(_write(tmp_path, "nul.jsonl", lines))
    assert df["error"].tolist() == [
        "id 'a\\x00b' contains a NUL character",
        "label 'p\\x00s' contains a NUL character",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("l.csv", b"id,label\n1,\xff\xfe\n", r"not UTF-8 .*0xff at byte offset 11 \(line 2\)"),
        ("l.json", b"\xef\xbb\xbf[\xc3]", r"not UTF-8 .*0xc3 at byte offset 4 \(line 1\)"),
        ("l.json", '[{"id": 1, "label": "pos"},\n {"id": 2', "invalid JSON at line 2, column"),
        ("l.json", '{"id": 1}', "expected a JSON list of Label Studio tasks, got a dict"),
        (
            "l.csv",
            "ident,labels,who\n1,pos,al\n",
            "needs 'id' and 'label'.*'ident', 'labels', 'who'",
        ),
        ("l.csv", "id,label,label\n1,a,b\n", "column 'label' twice"),
        ("l.csv", b"", "file is empty"),
        ("l.jsonl", b"\xef\xbb\xbf \n\n", "file is empty"),
        ("l.jsonl", "[\n  {\n", r"no line is a JSON object \(line 1: invalid JSON"),
        ("l.txt", "id,label\n", r"unknown label file extension '\.txt'"),
        ("labels", "id,label\n", r"unknown label file extension \(none\)"),
    ],
)
def test_whole_file_errors(tmp_path, name, content, message):
    path = _write(tmp_path, name, content)
    with pytest.raises(LabelFileError, match=message) as info:
        read_label_file(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert isinstance(info.value, ValueError)


def test_empty_json_list_is_no_rows(tmp_path):
    df = read_label_file(_write(tmp_path, "l.json", []))
    assert len(df) == 0 and tuple(df.columns) == LABEL_ROW_COLUMNS


def test_edited_label_studio_annotation_gets_a_new_key(tmp_path):
    def export(choice, updated):
        return [
            {
                "id": 1,
                "data": {"id": "a"},
                "annotations": [
                    {
                        "id": 77,
                        "updated_at": updated,
                        "completed_by": 3,
                        "result": [
                            {
                                "from_name": "label",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [choice]},
                            }
                        ],
                    }
                ],
            }
        ]

    (tmp_path / "v1.json").write_text(json.dumps(export("pos", "2025-01-01T00:00:00Z")))
    (tmp_path / "v2.json").write_text(json.dumps(export("neg", "2025-01-02T00:00:00Z")))
    k1 = read_label_file(tmp_path / "v1.json")["external_key"].tolist()
    k2 = read_label_file(tmp_path / "v2.json")["external_key"].tolist()
    assert k1 != k2 and all(k.startswith("ls-annotation:77@") for k in k1 + k2)
