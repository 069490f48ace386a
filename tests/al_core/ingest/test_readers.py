import pandas as pd
import pytest

from al_core.errors import InputFileError
from al_core.ingest import detect_format, read_table


def test_reads_every_format_as_strings(tmp_path):
    (tmp_path / "a.csv").write_text("id,text,label\n007,hello,pos\n", encoding="utf-8")
    (tmp_path / "a.tsv").write_text("id\ttext\tlabel\n007\thello\tpos\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"id": "007", "text": "hello", "label": "pos"}\n\n')
    (tmp_path / "a.json").write_text('[{"id": "007", "text": "hello", "label": "pos"}]')
    pd.DataFrame({"id": ["007"], "text": ["hello"], "label": ["pos"]}).to_parquet(
        tmp_path / "a.parquet"
    )
    for name in ("a.csv", "a.tsv", "a.jsonl", "a.json", "a.parquet"):
        frame = read_table(tmp_path / name)
        assert frame.to_dict("records") == [{"id": "007", "text": "hello", "label": "pos"}], name


def test_utf8_bom_is_accepted(tmp_path):
    (tmp_path / "b.csv").write_bytes("\ufeffid,text\n1,café\n".encode())
    assert read_table(tmp_path / "b.csv").columns.tolist() == ["id", "text"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "latin1.csv",
            "id,text\n1,caf\xe9\n".encode("latin-1"),
            r"not valid utf-8 \(byte 0xe9 at offset",
        ),
        ("empty.csv", b"", "the file is empty"),
        ("broken.csv", b'id,text\n1,"unterminated\n2,ok\n', "malformed CSV"),
        ("bad.jsonl", b'{"id": 1, "text": "a"}\n{"id": 2, "text": \n', "line 2 is not valid JSON"),
        ("list.jsonl", b"[1, 2]\n", "line 1 is not a JSON object"),
        ("trunc.json", b'[{"id": 1, "text": "a"}', r"not valid JSON \(line 1"),
        ("fake.parquet", b"this is not parquet", "not a readable Parquet file"),
        ("notes.docx", b"PK\x03\x04", "unknown file type"),
    ],
)
def test_unreadable_files_fail_with_a_clear_reason(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_table(tmp_path / name)


def test_other_encoding_on_request(tmp_path):
    (tmp_path / "l.csv").write_bytes("id,text\n1,caf\xe9\n".encode("latin-1"))
    assert read_table(tmp_path / "l.csv", encoding="latin-1").text.tolist() == ["café"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="is a folder"):
        detect_format(str(tmp_path))


def test_huggingface_dataset_from_disk_maps_class_labels(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
    )
    ds = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"text": ["good", "bad"], "label": [1, 0]}, features=features
            )
        }
    )
    ds.save_to_disk(str(tmp_path / "hf"))
    with pytest.raises(InputFileError, match="choose one with --split"):
        read_table(tmp_path / "hf")
    frame = read_table(tmp_path / "hf", split="train")
    assert frame.label.tolist() == ["pos", "neg"]


def test_hub_dataset_by_name_fails_clearly_offline(monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputFileError, match=r"hf:no-such/dataset: cannot load the dataset"):
        read_table("hf:no-such/dataset")
