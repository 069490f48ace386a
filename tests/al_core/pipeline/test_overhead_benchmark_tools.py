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
