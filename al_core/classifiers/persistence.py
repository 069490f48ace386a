"""Model artifacts that never execute code on load: JSON, ``.npy``, skops and safetensors.

A saved classifier is a directory:

* ``classifier.json``: the format tag, the registry name, the constructor hyperparameters
  (:meth:`Classifier.get_params`) and the classifier's small JSON state;
* whatever files the classifier writes for its fitted state: a fitted logistic regression as
  its arrays (``.npy``) and JSON parameters, other scikit-learn estimators as ``*.skops``
  files, torch weights as ``*.safetensors``, tokenizers as their JSON files.

Loading looks the class up in alflow's own registry by name (a file cannot name arbitrary
code), builds it from the saved hyperparameters and hands it the directory. No ``pickle`` is
involved anywhere:

* :func:`load_sklearn` reads a skops file and refuses any type outside a fixed allow-list of
  scikit-learn, NumPy and SciPy types (:data:`TRUSTED_SKLEARN_TYPES` on top of skops' own
  defaults); the list is ours, never taken from the file;
* :func:`load_arrays` reads ``.npy`` files with ``allow_pickle=False``;
* torch weights are read with ``safetensors`` (plain tensors, no code).

So opening someone else's workspace cannot run their code: the worst a hostile artifact can do
is fail to load with :class:`UnsafeArtifactError` or give wrong numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from al_core.classifiers.base import Classifier

FORMAT = "alflow.classifier"
FORMAT_VERSION = 1
MANIFEST = "classifier.json"

#: scikit-learn types that skops does not trust by default but alflow saves itself (the
#: calibrated linear SVM). Private sklearn classes, but plain data holders with no custom
#: loading code.
TRUSTED_SKLEARN_TYPES: tuple[str, ...] = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.model_selection._split.StratifiedKFold",
)


class UnsafeArtifactError(RuntimeError):
    """A model artifact holds something alflow does not load (unknown types or classes)."""


# -- scikit-learn estimators (skops) ------------------------------------------------------------


def dump_sklearn(estimator: Any, path: Path) -> Path:
    """Write a fitted scikit-learn estimator with skops (no pickle)."""
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(estimator, path)
    return path


def load_sklearn(path: Path) -> Any:
    """Read a skops file, trusting only skops' defaults and :data:`TRUSTED_SKLEARN_TYPES`."""
    import skops.io as sio

    untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_SKLEARN_TYPES)
    if untrusted:
        raise UnsafeArtifactError(
            f"{path} holds types alflow does not load: {', '.join(sorted(untrusted))}"
        )
    return sio.load(path, trusted=list(TRUSTED_SKLEARN_TYPES))


# -- logistic regression as arrays -------------------------------------------------------------

#: The fitted attributes a LogisticRegression predicts from.
_LOGREG_ARRAYS = ("coef_", "intercept_", "classes_", "n_iter_")


def dump_logreg(estimator: Any, directory: Path) -> Path | None:
    """Write a fitted ``LogisticRegression`` as ``.npy`` arrays and JSON parameters.

    Much faster to load than skops (whose import walks every scikit-learn estimator, several
    seconds of every iteration); returns None, writing nothing, for any other estimator or
    for parameters that JSON cannot hold exactly (a ``class_weight`` dict), which go to skops.
    """
    from sklearn.linear_model import LogisticRegression

    if type(estimator) is not LogisticRegression:
        return None
    params = estimator.get_params()
    try:
        if json.loads(json.dumps(params)) != params:
            return None
    except TypeError:
        return None
    arrays = {name: getattr(estimator, name) for name in _LOGREG_ARRAYS}
    if any(np.asarray(a).dtype.kind not in "biuf" for a in arrays.values()):
        return None
    save_arrays(directory, **{name.rstrip("_"): a for name, a in arrays.items()})
    (directory / "params.json").write_text(json.dumps(params, sort_keys=True))
    return directory


def load_logreg(directory: Path) -> Any:
    """Rebuild a ``LogisticRegression`` written by :func:`dump_logreg` (no code is loaded:
    the class is fixed here, the files hold numbers and plain parameters)."""
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(**json.loads((directory / "params.json").read_text()))
    names = [name.rstrip("_") for name in _LOGREG_ARRAYS]
    for name, arr in zip(_LOGREG_ARRAYS, load_arrays(directory, *names), strict=True):
        setattr(estimator, name, arr)
    estimator.n_features_in_ = int(estimator.coef_.shape[1])
    return estimator


# -- arrays (.npy without pickle) ---------------------------------------------------------------


def save_arrays(directory: Path, **arrays: np.ndarray) -> None:
    """Write each array as ``<name>.npy`` (numeric dtypes only, so no pickle is needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"array {name!r} has dtype {arr.dtype}; only numbers are saved")
        np.save(directory / f"{name}.npy", arr, allow_pickle=False)


def load_arrays(directory: Path, *names: str) -> list[np.ndarray]:
    """Read arrays written by :func:`save_arrays` (``allow_pickle=False``)."""
    return [np.load(directory / f"{name}.npy", allow_pickle=False) for name in names]


# -- torch modules (safetensors) ----------------------------------------------------------------


def save_torch_module(module: Any, path: Path) -> Path:
    """Write a module's weights as safetensors (shared tensors are handled)."""
    from safetensors.torch import save_model

    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(module, str(path))
    return path


def load_torch_module(module: Any, path: Path, device: str = "cpu") -> Any:
    """Load safetensors weights into ``module`` (strict: every key must match)."""
    from safetensors.torch import load_model

    missing, unexpected = load_model(module, str(path), strict=False, device=device)
    if missing or unexpected:
        raise UnsafeArtifactError(
            f"{path} does not match the model: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    return module


# -- whole classifiers --------------------------------------------------------------------------


def save_classifier(clf: Classifier, directory: str | Path) -> Path:
    """Save ``clf`` (fitted or not) into ``directory``; returns the directory."""
    from al_core.storage.atomic import atomic_write_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = clf._save_state(directory) if clf.is_fitted else None
    atomic_write_json(
        directory / MANIFEST,
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "name": clf.name,
            "num_classes": clf.num_classes,
            "multi_label": clf.multi_label,
            "seed": clf.seed,
            "params": clf.get_params(),
            "state": state,
        },
    )
    return directory


def load_classifier(directory: str | Path) -> Classifier:
    """Load a classifier saved by :func:`save_classifier`; runs no code from the files."""
    from al_core.classifiers import LOADABLE

    directory = Path(directory)
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no saved classifier in {directory} ({MANIFEST} missing)"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnsafeArtifactError(f"{path} is not an alflow classifier artifact")
    if manifest.get("version") != FORMAT_VERSION:
        raise UnsafeArtifactError(
            f"{path} has format version {manifest.get('version')}; this alflow reads "
            f"version {FORMAT_VERSION}"
        )
    name = manifest.get("name")
    if name not in LOADABLE:
        raise UnsafeArtifactError(f"{path} names an unknown classifier {name!r}")
    cls = LOADABLE[name]
    clf = cls(
        num_classes=int(manifest["num_classes"]),
        multi_label=bool(manifest["multi_label"]),
        seed=manifest["seed"],
        **cls.params_from_json(manifest.get("params") or {}),
    )
    if manifest.get("state") is not None:
        clf._load_state(directory, manifest["state"])
    return clf
