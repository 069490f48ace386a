"""Fixtures of the classifier tests: the tiny model folder and small real text data."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.al_core.classifiers.tiny_models import build_tiny_model
from tests.conftest import TREC


@pytest.fixture(scope="session")
def trec_small():
    """120 TREC-6 training questions (20 per class where possible) and 60 test questions."""
    train = pd.read_parquet(TREC / "train.parquet")
    test = pd.read_parquet(TREC / "test.parquet")
    names = sorted(set(train.label))
    picked = train.groupby("label", group_keys=False).head(20).reset_index(drop=True)
    return {
        "names": names,
        "train_texts": picked.text.tolist(),
        "train_y": picked.label.map(names.index).to_numpy(),
        "test_texts": test.text.iloc[:60].tolist(),
        "test_y": test.label.iloc[:60].map(names.index).to_numpy(),
    }


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A folder with a tiny random BERT (2 layers, 32 dims) and a WordPiece tokenizer."""
    corpus = pd.read_parquet(TREC / "train.parquet").text.iloc[:2000].tolist()
    return build_tiny_model(tmp_path_factory.mktemp("tiny-bert"), corpus)
