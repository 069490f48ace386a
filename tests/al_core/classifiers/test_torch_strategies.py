"""The MC-dropout and gradient strategies with the real torch classifiers they need.

The strategy tests use a small torch model of their own; here BALD and the three EGL variants
run against ``transformer`` and ``kimcnn`` (tiny random BERT weights, built in memory), as
queries and through a simulated run.
"""

from __future__ import annotations

import numpy as np
import pytest

from al_core.classifiers import TransformerClassifier
from al_core.initialization import RandomInitializer
from al_core.registry import make_strategy
from al_core.simulation import simulate
from tests.al_core.classifiers.test_neural_classifiers import kimcnn, transformer  # noqa: F401

STRATEGIES = [
    "bald",
    "expected-gradient-length",
    "expected-gradient-length-max-word",
    "expected-gradient-length-layer",
]


@pytest.mark.parametrize("model_name", ["transformer", "kimcnn"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_query_with_a_real_torch_classifier(strategy, model_name, request, trec_small):
    clf = request.getfixturevalue(model_name)
    texts = trec_small["train_texts"]
    labelled = np.arange(0, 120, 4)
    unlabelled = np.setdiff1d(np.arange(len(texts)), labelled)
    kwargs = {"layer": "output"} if strategy.endswith("-layer") and model_name == "kimcnn" else {}
    built = make_strategy(strategy, **kwargs)
    y = trec_small["train_y"][labelled]
    first = built.query(clf, texts, unlabelled, labelled, y, 7, seed=3)
    again = built.query(clf, texts, unlabelled, labelled, y, 7, seed=3)
    assert len(set(first.indices.tolist())) == 7
    assert set(first.indices.tolist()) <= set(unlabelled.tolist())
    assert np.isfinite(first.scores).all() and (first.scores >= 0).all()
    assert list(first.scores) == sorted(first.scores, reverse=True)
    np.testing.assert_array_equal(first.indices, again.indices)


@pytest.mark.parametrize("strategy", ["bald", "expected-gradient-length"])
def test_simulated_run_with_the_transformer(strategy, tiny_model_dir, trec_small):
    def factory():
        return TransformerClassifier(
            6, seed=0, model=str(tiny_model_dir), num_threads=1, epochs=1, min_steps=4
        )

    run = simulate(
        trec_small["train_texts"],
        trec_small["train_y"],
        trec_small["test_texts"],
        trec_small["test_y"],
        classifier_factory=factory,
        strategy=make_strategy(strategy),
        initializer=RandomInitializer(),
        initial=12,
        batch_size=6,
        iterations=2,
        seed=0,
        num_classes=6,
    )
    assert run.labels == [12, 18, 24]
    assert all(0 <= a <= 1 for a in run.accuracy)
