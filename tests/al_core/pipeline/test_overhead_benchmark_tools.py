"""The machinery of benchmarks/overhead_10k.py: its sources and how it answers a batch."""

import json

import pandas as pd
import pytest

bench = pytest.importorskip("benchmarks.overhead_10k")
if not (bench.DATA / "train.parquet").is_file():
    pytest.skip(f"AG News data absent ({bench.DATA})", allow_module_level=True)


def test_the_sources_are_the_whole_train_split_and_a_disjoint_eval_sample(tmp_path):
    info = bench.write_sources(tmp_path, 50, seed=0)
    pool = pd.read_parquet(tmp_path / "pool.parquet")
    ev = pd.read_parquet(tmp_path / "eval.parquet")
    gold = pd.read_parquet(tmp_path / "gold.parquet")
    assert info["pool"] == len(pool) > 9_900 and info["eval"] == len(ev) == 50
    assert pool.id.is_unique and pool.text.is_unique
    assert not set(ev.text) & set(pool.text)
    assert list(gold.id) == list(pool.id)
    assert set(gold.label) == set(ev.label) == set(info["labels"]) and len(info["labels"]) == 4


def test_a_batch_is_answered_with_its_gold_labels_as_one_whole_file(tmp_path):
    batch = tmp_path / "batch.json"
    tasks = [
        {"data": {"id": i, "text": f"text {i}"}, "meta": {"rank": r}}
        for r, i in enumerate(["b", "a"])
    ]
    batch.write_text(json.dumps(tasks))
    inbox = tmp_path / "inbox"
    n = bench.answer_batch({"batch": str(batch)}, {"a": "World", "b": "Sports"}, inbox, 3)
    assert n == 2
    assert [p.name for p in inbox.iterdir()] == ["answers-003.csv"]
    written = pd.read_csv(inbox / "answers-003.csv")
    assert written.to_dict("records") == [
        {"id": "b", "label": "Sports"},
        {"id": "a", "label": "World"},
    ]


def test_the_head_only_copy_answers_only_part_of_the_newest_batch(tmp_path):
    head_only = pytest.importorskip("benchmarks.setfit_head_only")
    ws = tmp_path / "ws"
    (ws / "queue" / "inbox").mkdir(parents=True)
    (ws / "queue" / "outbox").mkdir()
    (ws / "queue" / "inbox" / "answers-002.csv").write_text("id,label\nx,World\n")
    for k, ids in ((1, ["x"]), (2, ["c", "b", "a"])):
        tasks = [{"data": {"id": i, "text": i}} for i in ids]
        (ws / "queue" / "outbox" / f"batch-{k:04d}.json").write_text(json.dumps(tasks))
    gold = {"a": "World", "b": "Sports", "c": "Business", "x": "World"}

    n = head_only.prepare(ws, tmp_path / "copy", gold, answers=2)

    assert n == 2
    inbox = tmp_path / "copy" / "queue" / "inbox"
    assert [p.name for p in inbox.iterdir()] == ["answers.csv"]
    assert pd.read_csv(inbox / "answers.csv").to_dict("records") == [
        {"id": "c", "label": "Business"},
        {"id": "b", "label": "Sports"},
    ]
    assert (ws / "queue" / "inbox" / "answers-002.csv").is_file()  # the source is untouched


def test_the_baseline_environment_must_import_the_baselines_code(tmp_path, monkeypatch):
    head_only = pytest.importorskip("benchmarks.setfit_head_only")
    monkeypatch.chdir(tmp_path)
    env = head_only.code_env({"PATH": "/usr/bin:/bin"}, head_only.REPO)
    assert env["PYTHONPATH"] == str(head_only.REPO)
    with pytest.raises(RuntimeError, match="not .*'s code"):
        head_only.code_env({"PATH": "/usr/bin:/bin"}, tmp_path)  # no al_core there
