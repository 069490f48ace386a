"""Linear scikit-learn classifiers on embedder features (TF-IDF by default).

All classifiers here share :class:`SklearnClassifier`, which owns the label handling every
model needs and no model should repeat:

* targets are validated against the label set (:func:`check_targets`);
* ``predict_proba`` always has ``num_classes`` columns in label-set order. Classes absent from
  the training data get a zero column (:func:`pad_proba`); single-label rows are renormalised
  to sum to 1;
* training data with a single class present still fits: the model then predicts that class
  with probability 1 (single-label). In multi-label mode each label is its own binary problem
  (one-vs-rest); a label that is always 0 (or always 1) in the training data gets a constant
  probability of 0 (or 1);
* :class:`~al_core.classifiers.base.NotFittedError` before ``fit``; ``seed`` is passed to the
  estimators, so fitting is deterministic.

scikit-learn is imported on first ``fit``.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from al_core.classifiers.base import Classifier, NotFittedError
from al_core.features import Features, num_rows

# -- shared helpers --------------------------------------------------------------------------


def check_targets(y: np.ndarray, num_classes: int, multi_label: bool, n_rows: int) -> np.ndarray:
    """Validate ``y`` (see :mod:`al_core.labels`) and return it as int64 / int8."""
    arr = np.asarray(y)
    if arr.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {arr.shape[0]}")
    if n_rows == 0:
        raise ValueError("cannot fit a classifier on zero labelled examples")
    if multi_label:
        if arr.ndim != 2 or arr.shape[1] != num_classes:
            raise ValueError(
                f"multi-label y must be an indicator matrix of shape (n, {num_classes}); "
                f"got shape {arr.shape}"
            )
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("multi-label y must contain only 0 and 1")
        return arr.astype(np.int8, copy=False)
    if arr.ndim != 1:
        raise ValueError(
            f"single-label y must be a 1-D array of class indices; got shape {arr.shape} "
            "(is this a multi-label task? build the classifier with multi_label=True)"
        )
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"single-label y must hold integer class indices, got {arr.dtype}")
    bad = (arr < 0) | (arr >= num_classes)
    if bad.any():
        examples = sorted(set(arr[bad].tolist()))[:5]
        raise ValueError(
            f"class indices must lie in [0, {num_classes}); got {examples} "
            "(-1 marks an unlabelled item: pass labelled rows only)"
        )
    return arr.astype(np.int64, copy=False)


def pad_proba(
    partial: np.ndarray, classes: np.ndarray, num_classes: int, normalize: bool = True
) -> np.ndarray:
    """Place the columns of ``partial`` (one per entry of ``classes``) into a
    ``(n, num_classes)`` matrix, zero elsewhere; renormalise rows when ``normalize``."""
    partial = np.asarray(partial, dtype=np.float64)
    out = np.zeros((partial.shape[0], num_classes), dtype=np.float64)
    out[:, np.asarray(classes, dtype=np.int64)] = partial
    if normalize and out.shape[0]:
        np.clip(out, 0.0, None, out=out)
        sums = out.sum(axis=1, keepdims=True)
        zero = sums[:, 0] <= 0
        if zero.any():  # cannot happen for proper probabilities; spread evenly over seen classes
            out[np.ix_(zero, np.asarray(classes, dtype=np.int64))] = 1.0 / len(classes)
            sums = out.sum(axis=1, keepdims=True)
        out /= sums
    return out


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature`` (numerically stable)."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


class _Constant:
    """Stands in for an estimator when only one class (or label value) was seen."""

    def __init__(self, value: int) -> None:
        self.value = int(value)


class SklearnClassifier(Classifier):
    """Base of the scikit-learn models: target checks, padding, one-vs-rest, constants.

    Subclasses implement :meth:`_fit_estimator` (fit on rows with at least two distinct
    targets) and may override :meth:`_estimator_proba` and :meth:`_prepare`.
    """

    default_embedder: ClassVar[str | None] = "tfidf"

    def __init__(
        self, num_classes: int, multi_label: bool = False, seed: int | None = None
    ) -> None:
        super().__init__(num_classes, multi_label=multi_label, seed=seed)
        self._estimators: list[Any] | None = None  # one (single-label) or one per label
        self.classes_: np.ndarray | None = None  # classes present in training (single-label)

    # hooks -----------------------------------------------------------------------------------

    @abstractmethod
    def _fit_estimator(self, X: Any, y: np.ndarray) -> Any:
        """A fitted estimator for ``y`` (>= 2 distinct values; 0/1 in multi-label mode)."""

    def _estimator_proba(self, estimator: Any, X: Any) -> np.ndarray:
        """Probabilities with one column per ``estimator.classes_`` entry."""
        return estimator.predict_proba(X)

    def _prepare(self, X: Features) -> Any:
        """Check and convert features before they reach scikit-learn."""
        is_texts = (isinstance(X, list | tuple) and (len(X) == 0 or isinstance(X[0], str))) or (
            isinstance(X, np.ndarray) and X.dtype.kind in "OUS"
        )
        if is_texts:
            raise TypeError(
                f"{type(self).__name__} expects a feature matrix, not texts; embed them first "
                f"(default embedder: {self.default_embedder!r})"
            )
        if isinstance(X, list | tuple):
            return np.asarray(X, dtype=np.float64)
        return X

    # protocol --------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self._estimators is not None

    def fit(self, X: Features, y: np.ndarray) -> Self:
        X = self._prepare(X)
        y = check_targets(y, self.num_classes, self.multi_label, num_rows(X))
        if self.multi_label:
            self._estimators = [self._fit_binary_or_constant(X, y[:, j]) for j in range(y.shape[1])]
            self.classes_ = None
        else:
            present = np.unique(y)
            self.classes_ = present
            if present.size == 1:
                self._estimators = [_Constant(present[0])]
            else:
                self._estimators = [self._fit_estimator(X, y)]
        return self

    def _save_state(self, directory: Path) -> dict[str, Any]:
        from al_core.classifiers.persistence import dump_logreg, dump_sklearn

        entries = []
        for j, est in enumerate(self._estimators or []):
            if isinstance(est, _Constant):
                entries.append({"constant": est.value})
            elif (arrays := dump_logreg(est, directory / f"estimator-{j}")) is not None:
                entries.append({"logreg": arrays.name})
            else:
                entries.append({"file": dump_sklearn(est, directory / f"estimator-{j}.skops").name})
        classes = None if self.classes_ is None else [int(c) for c in self.classes_]
        return {"classes": classes, "estimators": entries}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        from al_core.classifiers.persistence import load_logreg, load_sklearn

        def load(entry: dict[str, Any]) -> Any:
            if "constant" in entry:
                return _Constant(entry["constant"])
            if "logreg" in entry:
                return load_logreg(directory / entry["logreg"])
            return load_sklearn(directory / entry["file"])

        self._estimators = [load(e) for e in state["estimators"]]
        classes = state.get("classes")
        self.classes_ = None if classes is None else np.asarray(classes, dtype=np.int64)

    def _fit_binary_or_constant(self, X: Any, column: np.ndarray) -> Any:
        values = np.unique(column)
        if values.size == 1:
            return _Constant(values[0])
        return self._fit_estimator(X, column.astype(np.int64))

    def predict_proba(self, X: Features) -> np.ndarray:
        if self._estimators is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(X, y) first")
        X = self._prepare(X)
        n = num_rows(X)
        if n == 0:
            return np.zeros((0, self.num_classes), dtype=np.float64)
        if self.multi_label:
            out = np.empty((n, self.num_classes), dtype=np.float64)
            for j, est in enumerate(self._estimators):
                if isinstance(est, _Constant):
                    out[:, j] = float(est.value)
                else:
                    proba = self._estimator_proba(est, X)
                    out[:, j] = proba[:, list(est.classes_).index(1)]
            return out
        est = self._estimators[0]
        if isinstance(est, _Constant):
            return pad_proba(np.ones((n, 1)), np.array([est.value]), self.num_classes)
        return pad_proba(self._estimator_proba(est, X), est.classes_, self.num_classes)


# -- models ----------------------------------------------------------------------------------


class LogisticRegressionClassifier(SklearnClassifier):
    """L2-regularised logistic regression (lbfgs); one-vs-rest binary models for multi-label.

    ``C=100`` was chosen by measurement (``benchmarks/tfidf_sweep.py``: C in {1, 10, 100} x
    class weights x TF-IDF n-grams, README protocol on TREC-6 and MR): on L2-normalised TF-IDF
    rows, C=1 regularises so hard that 25-525 labels give near-constant predictions (mean AUC
    0.54 against 0.62 at C=100 with uni+bigrams).
    """

    name = "logreg"
    description = "Logistic regression on TF-IDF features (multi-label: one-vs-rest)"
    supports_multi_label = True
    default_embedder = "tfidf"

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        C: float = 100.0,
        max_iter: int = 1000,
        class_weight: str | dict[int, float] | None = None,
    ) -> None:
        super().__init__(num_classes, multi_label=multi_label, seed=seed)
        if C <= 0:
            raise ValueError(f"C must be positive, got {C}")
        self.C = float(C)
        self.max_iter = int(max_iter)
        self.class_weight = class_weight

    def _make_logreg(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.C,
            max_iter=self.max_iter,
            class_weight=self.class_weight,
            random_state=self.seed,
        )

    def _fit_estimator(self, X: Any, y: np.ndarray) -> Any:
        return self._make_logreg().fit(X, y)


class LinearSVMClassifier(SklearnClassifier):
    """Linear SVM (``LinearSVC``) with confidence scores.

    Probabilities come from one of two paths, decided at each ``fit``:

    * **calibrated** (``calibrated_ = True``): when every class present has at least
      ``calibration_folds`` examples, a ``CalibratedClassifierCV`` (``calibration_method``,
      sigmoid by default) fits ``calibration_folds`` SVMs on stratified folds and averages
      their calibrated probabilities;
    * **softmax fallback** (``calibrated_ = False``): with fewer examples per class (the
      normal state early in active learning) the SVM is fitted on all rows and the
      probabilities are a softmax over its ``decision_function`` margins divided by
      ``softmax_temperature`` (for two classes: a sigmoid of the margin). These preserve the
      SVM's ranking but are not calibrated.

    Single-label only. ``C=10`` was chosen by measurement (``benchmarks/tfidf_sweep.py``; mean
    AUC 0.615 against 0.606 at C=1).
    """

    name = "svm"
    description = "Linear SVM on TF-IDF features with calibrated (or softmax) confidences"
    supports_multi_label = False
    default_embedder = "tfidf"

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        C: float = 10.0,
        max_iter: int = 2000,
        class_weight: str | dict[int, float] | None = None,
        calibration_folds: int = 3,
        calibration_method: str = "sigmoid",
        softmax_temperature: float = 1.0,
    ) -> None:
        super().__init__(num_classes, multi_label=multi_label, seed=seed)
        if C <= 0:
            raise ValueError(f"C must be positive, got {C}")
        if calibration_folds < 2:
            raise ValueError(f"calibration_folds must be >= 2, got {calibration_folds}")
        if calibration_method not in ("sigmoid", "isotonic"):
            raise ValueError("calibration_method must be 'sigmoid' or 'isotonic'")
        if softmax_temperature <= 0:
            raise ValueError("softmax_temperature must be positive")
        self.C = float(C)
        self.max_iter = int(max_iter)
        self.class_weight = class_weight
        self.calibration_folds = int(calibration_folds)
        self.calibration_method = calibration_method
        self.softmax_temperature = float(softmax_temperature)
        self.calibrated_: bool | None = None

    def _make_svc(self) -> Any:
        from sklearn.svm import LinearSVC

        return LinearSVC(
            C=self.C, max_iter=self.max_iter, class_weight=self.class_weight, random_state=self.seed
        )

    def fit(self, X: Features, y: np.ndarray) -> Self:
        self.calibrated_ = None
        return super().fit(X, y)

    def _fit_estimator(self, X: Any, y: np.ndarray) -> Any:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= self.calibration_folds:
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.model_selection import StratifiedKFold

            folds = StratifiedKFold(n_splits=self.calibration_folds)  # unshuffled: deterministic
            model = CalibratedClassifierCV(
                self._make_svc(), method=self.calibration_method, cv=folds
            )
            self.calibrated_ = True
            return model.fit(X, y)
        self.calibrated_ = False
        return self._make_svc().fit(X, y)

    def _save_state(self, directory: Path) -> dict[str, Any]:
        return {**super()._save_state(directory), "calibrated": self.calibrated_}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        super()._load_state(directory, state)
        self.calibrated_ = state.get("calibrated")

    def _estimator_proba(self, estimator: Any, X: Any) -> np.ndarray:
        if hasattr(estimator, "predict_proba"):
            return estimator.predict_proba(X)
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:  # binary: the margin of classes_[1]
            scores = np.column_stack([np.zeros_like(scores), scores])
        return softmax(scores, self.softmax_temperature)
