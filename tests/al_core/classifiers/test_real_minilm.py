"""The fine-tuned transformer on the real packaged MiniLM weights (the other torch tests use a
tiny random BERT): it learns TREC-6 from a few hundred questions and reloads without pickle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from al_core.classifiers import Classifier, TransformerClassifier
from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.slow


def test_transformer_fine_tunes_real_minilm_on_trec(tmp_path):
    train = pd.read_parquet(TREC / "train.parquet").sample(240, random_state=0)
    test = pd.read_parquet(TREC / "test.parquet").iloc[:200]
    index = {name: k for k, name in enumerate(TREC_LABELS)}
    y_train = train.label.map(index).to_numpy()
    y_test = test.label.map(index).to_numpy()

    clf = TransformerClassifier(6, seed=0, epochs=3, min_steps=30, validation_fraction=0.0)
    clf.fit(train.text.tolist(), y_train)
    proba = clf.predict_proba(test.text.tolist())
    accuracy = float((proba.argmax(axis=1) == y_test).mean())
    majority = float(np.bincount(y_test).max() / len(y_test))
    # Pretrained weights learn fast: well above the majority class (0.2 here) after 45 steps.
    assert accuracy > majority + 0.25, (accuracy, majority)

    saved = clf.save(tmp_path / "model")
    again = Classifier.load(saved)
    np.testing.assert_allclose(again.predict_proba(test.text.tolist()), proba, atol=1e-5)
