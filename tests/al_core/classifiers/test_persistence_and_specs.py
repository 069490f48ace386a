"""Hostile artifacts are refused; classifier specs parse; the learner reuses models on request."""

from __future__ import annotations

import json

import numpy as np
import pytest

from al_core.classifiers import (
    Classifier,
    EmbeddingLogRegClassifier,
    LabelSpreadingClassifier,
    UnsafeArtifactError,
)
from al_core.classifiers.persistence import dump_sklearn, load_sklearn
from al_core.classifiers.spec import parse_classifier_spec
from al_core.errors import ConfigError
from al_core.learner import ActiveLearner
from al_core.registry import lookup, make_classifier
from tests.al_core.classifiers.classifier_contract import blobs


def test_a_skops_file_with_a_function_reference_is_refused(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    path = dump_sklearn(FunctionTransformer(func=print), tmp_path / "evil.skops")
    with pytest.raises(UnsafeArtifactError, match="builtins.print"):
        load_sklearn(path)


def test_an_artifact_of_another_format_or_version_is_refused(tmp_path):
    X, y = blobs(5, [0, 1])
    folder = EmbeddingLogRegClassifier(2, seed=0).fit(X, y).save(tmp_path / "m")
    manifest = json.loads((folder / "classifier.json").read_text())
    for change in ({"format": "pickle"}, {"version": 99}, {"name": "builtins.eval"}):
        (folder / "classifier.json").write_text(json.dumps({**manifest, **change}))
        with pytest.raises(UnsafeArtifactError):
            Classifier.load(folder)


def test_specs_carry_typed_options():
    assert parse_classifier_spec("setfit") == ("setfit", {})
    name, opts = parse_classifier_spec("kimcnn:model=/m/x-1,epochs=3,dropout=0.25,filter_sizes=2|3")
    assert name == "kimcnn"
    assert opts == {"model": "/m/x-1", "epochs": 3, "dropout": 0.25, "filter_sizes": [2, 3]}
    clf = make_classifier("transformer:warm_start=true,device=null", 4)
    assert clf.warm_start is True and clf.device is None and clf.wants_reuse
    with pytest.raises(ConfigError, match="no option 'lr'"):
        lookup("classifiers", "transformer:lr=1")
    with pytest.raises(ConfigError, match="not key=value"):
        lookup("classifiers", "transformer:epochs")


class _Counting(EmbeddingLogRegClassifier):
    """Counts instances and records whether fit got the unlabelled pool."""

    supports_warm_start = True
    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _Counting.made += 1


class _WantsReuse(_Counting):
    warm_start = True  # what `wants_reuse` reads, as on SetFit


def test_the_learner_reuses_a_warm_startable_model_when_asked_or_when_it_wants_to():
    from al_core.query import RandomSampling

    X, y = blobs(10, [0, 1, 2])
    cases = ((_Counting, False, 3), (_Counting, True, 1), (_Counting, None, 3))
    for cls, reuse, expected in (*cases, (_WantsReuse, None, 1), (_WantsReuse, False, 3)):
        _Counting.made = 0
        learner = ActiveLearner(
            lambda cls=cls: cls(3, seed=0),
            RandomSampling(),
            X,
            num_classes=3,
            seed=0,
            reuse_model=reuse,
        )
        learner.initialize(np.arange(0, 30, 3), y[::3])
        for _ in range(2):
            result = learner.query(2)
            learner.update(y[result.indices])
        assert _Counting.made == expected, (cls.__name__, reuse)


def test_the_learner_passes_the_unlabelled_pool_to_semi_supervised_heads():
    from al_core.query import RandomSampling

    X, y = blobs(10, [0, 1])
    seen = {}

    class Spy(LabelSpreadingClassifier):
        def fit(self, X, y, unlabeled=None):
            seen["unlabeled"] = None if unlabeled is None else unlabeled.shape[0]
            return super().fit(X, y, unlabeled=unlabeled)

    learner = ActiveLearner(lambda: Spy(2, seed=0), RandomSampling(), X, num_classes=2, seed=0)
    learner.initialize([0, 10], y[[0, 10]])
    assert seen["unlabeled"] == 18
    learner.ignore([5])
    learner.update_label_at([3], y[[3]])
    assert seen["unlabeled"] == 16  # neither labelled nor ignored items are passed


@pytest.mark.parametrize(
    ("classes", "multi_label"), [([0, 1], False), ([0, 1, 2, 3], False), ([0, 1, 2], True)]
)
def test_a_logistic_regression_is_saved_as_arrays_and_reloads_without_skops(
    tmp_path, classes, multi_label
):
    X, y = blobs(20, classes)
    if multi_label:
        y = np.stack([y == 0, y == 1, y != 1], axis=1).astype(np.int64)
    clf = EmbeddingLogRegClassifier(len(classes), multi_label=multi_label, seed=0).fit(X, y)
    folder = clf.save(tmp_path / "m")
    assert not list(folder.rglob("*.skops"))
    assert {p.suffix for p in folder.rglob("*") if p.is_file()} <= {".json", ".npy"}
    again = Classifier.load(folder)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    # Reading the arrays needs no skops, whose import walks every scikit-learn estimator.
    import subprocess
    import sys

    code = (
        "import sys; from al_core.classifiers import Classifier;"
        f"Classifier.load({str(folder)!r});"
        "print('skops' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_logistic_regression_with_a_class_weight_dict_goes_to_skops(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from al_core.classifiers.persistence import dump_logreg

    X, y = blobs(10, [0, 1])
    est = LogisticRegression(class_weight={0: 1.0, 1: 2.0}).fit(X, y)
    assert dump_logreg(est, tmp_path / "arrays") is None  # JSON would turn the keys into text
    assert not (tmp_path / "arrays").exists()
    path = dump_sklearn(est, tmp_path / "est.skops")
    np.testing.assert_array_equal(load_sklearn(path).predict_proba(X), est.predict_proba(X))
