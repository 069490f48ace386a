"""The multi-label strategies on real multi-label data: an 800-comment sample of GoEmotions
(28 labels), TF-IDF features and one-vs-rest logistic regression."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from al_core import query as q

# CI has shared/ beside the clone; ALFLOW_SHARED_DATA points elsewhere (e.g. from a worktree)
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
DATA = Path(os.environ.get("ALFLOW_SHARED_DATA", SHARED)) / "goemotions"
pytestmark = pytest.mark.skipif(
    not (DATA / "train.parquet").exists(), reason=f"GoEmotions not found at {DATA}"
)


@pytest.fixture(scope="module")
def goemotions():
    from al_core.classifiers import LogisticRegressionClassifier
    from al_core.embeddings import TfidfEmbedder
    from al_core.labels import LabelSet

    frame = pd.read_parquet(DATA / "train.parquet").sample(800, random_state=0)
    names = sorted({label for labels in frame["labels"] for label in labels})
    y_all = LabelSet(names, multi_label=True).encode([list(v) for v in frame["labels"]])
    X = TfidfEmbedder().fit(frame["text"].tolist()).transform(frame["text"].tolist())
    labeled = np.arange(120)
    clf = LogisticRegressionClassifier(len(names), multi_label=True, seed=0)
    clf.fit(X[labeled], y_all[labeled])
    return clf, X, y_all, labeled, np.arange(120, 800)


@pytest.mark.parametrize(
    "strategy",
    [
        q.LabelCardinalityInconsistency(),
        q.CategoryVectorInconsistencyAndRanking(),
        q.AdaptiveActiveLearning(betas=(0.0, 1.0)),
        q.RandomSubsampling(q.CategoryVectorInconsistencyAndRanking(), subsample_size=200),
    ],
    ids=lambda s: s.name,
)
def test_multi_label_strategies_on_goemotions(goemotions, strategy) -> None:
    clf, X, y_all, labeled, unlabeled = goemotions
    result = strategy.query(clf, X, unlabeled, labeled, y_all[labeled], 20, seed=0)
    assert len(np.unique(result.indices)) == 20
    assert np.isin(result.indices, unlabeled).all()
    assert np.isfinite(result.scores).all()


def test_cardinality_inconsistency_picks_the_most_inconsistent(goemotions) -> None:
    clf, X, y_all, labeled, unlabeled = goemotions
    predicted = (clf.predict_proba(X[unlabeled]) >= 0.5).sum(axis=1)
    inconsistency = np.abs(predicted - y_all[labeled].sum(axis=1).mean())
    result = q.LabelCardinalityInconsistency().query(
        clf, X, unlabeled, labeled, y_all[labeled], 20, seed=0
    )
    np.testing.assert_allclose(np.sort(result.scores), np.sort(inconsistency)[-20:])
