"""Every registered classifier through the shared contract (``classifier_contract.py``).

The neural classifiers run on the tiny random BERT of ``tiny_models.py`` (one thread, a few
optimiser steps), so the whole contract stays fast; their accuracy is tested elsewhere.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from al_core.classifiers import LOADABLE, REGISTRY
from tests.al_core.classifiers.classifier_contract import ClassifierCase, ClassifierContract, blobs
from tests.conftest import REPO

SHARED_DATA = next(
    (p for p in (REPO.parent / "shared" / "data", Path("/work/shared/data")) if p.exists()),
    REPO.parent / "shared" / "data",
)

TINY_TORCH = {"num_threads": 1, "epochs": 2, "min_steps": 8, "batch_size": 16}


def _unlabeled_blobs(data):
    return {"unlabeled": blobs(10, [0, 1, 2, 3, 4, 5], seed=7)[0]}


def cases(tiny: str) -> dict[str, ClassifierCase]:
    def make(name, **options):
        cls = LOADABLE[name]
        return lambda k, multi_label=False, seed=0: cls(
            k, multi_label=multi_label, seed=seed, **options
        )

    return {
        "logreg": ClassifierCase("logreg", make("logreg"), "features"),
        "svm": ClassifierCase("svm", make("svm"), "features"),
        "embedding-logreg": ClassifierCase(
            "embedding-logreg", make("embedding-logreg"), "features"
        ),
        "label-spreading": ClassifierCase(
            "label-spreading",
            make("label-spreading", n_neighbors=5),
            "features",
            fit_kwargs=_unlabeled_blobs,
        ),
        "transformer": ClassifierCase(
            "transformer",
            make("transformer", model=tiny, learning_rate=1e-3, **TINY_TORCH),
            "texts",
            tolerance=1e-6,
        ),
        "kimcnn": ClassifierCase(
            "kimcnn",
            make("kimcnn", model=tiny, num_filters=8, **TINY_TORCH),
            "texts",
            tolerance=1e-6,
        ),
        "setfit": ClassifierCase(
            "setfit",
            make("setfit", model=tiny, num_iterations=2, max_pairs=64, num_threads=1),
            "texts",
            tolerance=1e-6,
        ),
    }


def test_every_loadable_classifier_has_a_contract_case(tmp_path):
    assert set(cases(str(tmp_path))) == set(LOADABLE) >= set(REGISTRY)


@pytest.fixture(params=sorted(LOADABLE))
def case(request, tiny_model_dir):
    return cases(str(tiny_model_dir))[request.param]


class TestClassifierContract(ClassifierContract):
    """The contract, once per registered classifier."""


# -- multi-label ------------------------------------------------------------------------------

MULTI = sorted(name for name, cls in LOADABLE.items() if cls.supports_multi_label)


@pytest.fixture(scope="module")
def goemotions():
    folder = SHARED_DATA / "goemotions"
    if not folder.exists():
        pytest.skip(f"GoEmotions not found at {folder} (../shared/data is absent)")
    frame = pd.read_parquet(folder / "train.parquet").iloc[:80]
    names = sorted(
        {name for labels in pd.read_parquet(folder / "train.parquet").labels for name in labels}
    )
    Y = np.zeros((len(frame), len(names)), dtype=np.int8)
    for i, labels in enumerate(frame.labels):
        Y[i, [names.index(n) for n in labels]] = 1
    return frame.text.tolist(), Y, names


@pytest.mark.parametrize("name", MULTI)
def test_multi_label_probabilities_lie_in_0_1_per_label(name, tiny_model_dir, goemotions):
    case = cases(str(tiny_model_dir))[name]
    if case.kind == "texts":
        X, Y, names = goemotions
        X_test = X[:20]
        kwargs = {}
    else:
        X, y = blobs(15, [0, 1, 2, 3])
        Y = np.zeros((len(y), 5), dtype=np.int8)
        Y[np.arange(len(y)), y] = 1
        Y[::3, 4] = 1  # a second label on every third item
        X_test, kwargs = X[:10], case.fit_kwargs(None)
        if name == "label-spreading":
            kwargs = {"unlabeled": blobs(5, [0, 1, 2, 3], seed=2)[0]}
        names = list("abcde")
    clf = case.make(len(names), multi_label=True, seed=0).fit(X, Y, **kwargs)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(names))
    assert np.all((proba >= 0) & (proba <= 1))
    never = Y.sum(axis=0) == 0  # labels no training item has: probability 0
    np.testing.assert_array_equal(proba[:, never], 0.0)
    assert set(np.unique(clf.predict(X_test))) <= {0, 1}


def test_single_label_only_classifiers_refuse_multi_label():
    with pytest.raises(ValueError, match="multi-label"):
        REGISTRY["svm"](3, multi_label=True)


def test_multi_label_goemotions_learns_with_the_tiny_transformer(tiny_model_dir, goemotions):
    """The BCE head trains: the training loss of the labels that occur goes down."""
    X, Y, names = goemotions
    make = partial(REGISTRY["transformer"], len(names), multi_label=True, seed=0)
    short = make(model=str(tiny_model_dir), num_threads=1, epochs=1, min_steps=1)
    longer = make(
        model=str(tiny_model_dir),
        num_threads=1,
        epochs=30,
        learning_rate=3e-3,
        validation_fraction=0.0,
    )

    def bce(clf):
        p = np.clip(clf.fit(X, Y).predict_proba(X), 1e-7, 1 - 1e-7)
        active = Y.sum(axis=0) > 0
        return float(-(Y * np.log(p) + (1 - Y) * np.log(1 - p))[:, active].mean())

    assert bce(longer) < 0.8 * bce(short)
