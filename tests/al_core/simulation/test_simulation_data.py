"""Reading labelled files for simulations: label lists, separators, label sets, stopping rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from al_core.errors import InputFileError
from al_core.hashing import content_hashes
from al_core.simulation import encode_splits, load_labelled_split, stopping_rows


def test_label_lists_make_a_multi_label_split(tmp_path):
    frame = pd.DataFrame(
        {"text": ["a", "b", "c"], "labels": [["joy", "love"], ["neutral"], ["love", " joy"]]}
    )
    frame.to_parquet(tmp_path / "t.parquet")
    texts, labels = load_labelled_split(tmp_path / "t.parquet", label_column="labels")
    assert texts == ["a", "b", "c"]
    assert labels == [["joy", "love"], ["neutral"], ["joy", "love"]]


def test_separator_splits_string_cells(tmp_path):
    pd.DataFrame({"text": ["a", "b"], "label": ["joy,love", "neutral"]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    _, labels = load_labelled_split(tmp_path / "t.csv", label_separator=",")
    assert labels == [["joy", "love"], ["neutral"]]
    _, single = load_labelled_split(tmp_path / "t.csv")
    assert single == ["joy,love", "neutral"]


def test_encode_splits_single_and_multi():
    label_set, y_train, y_test = encode_splits(["b", "a", "b"], ["a"])
    assert label_set.names == ("a", "b") and not label_set.multi_label
    assert y_train.tolist() == [1, 0, 1] and y_test.tolist() == [0]
    label_set, y_train, y_test = encode_splits([["x", "y"], ["y"]], [["x"]])
    assert label_set.multi_label and y_train.tolist() == [[1, 1], [0, 1]]
    with pytest.raises(InputFileError, match="1 rows have labels that the training file lacks: z"):
        encode_splits([["x"], ["y"]], [["x", "z"]])
    with pytest.raises(InputFileError, match="at least 2 labels"):
        encode_splits(["a", "a"], ["a"])
    with pytest.raises(InputFileError, match="disagree"):
        encode_splits([["x"], ["y"]], ["x"])


def test_stopping_rows_are_the_smallest_content_hashes():
    texts = [f"text {i}" for i in range(50)]
    rows = stopping_rows(texts, 10)
    hashes = np.array(content_hashes(texts))
    assert rows.tolist() == sorted(rows.tolist()) and len(rows) == 10
    assert set(hashes[rows]) == set(sorted(hashes)[:10])
    assert len(stopping_rows(texts, 500)) == 50
