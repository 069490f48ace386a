"""An in-memory active learner for experiments, simulations and notebooks.

:class:`ActiveLearner` keeps the whole pool's labels in memory and drives one query strategy and
a freshly built classifier per training round::

    learner = ActiveLearner(make_clf, strategy, X, num_classes=3, seed=0)
    learner.initialize_with(initializer, 20, y_gold=y)   # or initialize(indices, y)
    for _ in range(10):
        result = learner.query(10)
        learner.update(y[result.indices])                # the annotator's answers

Labels can be changed (:meth:`~ActiveLearner.update_label_at`), taken back
(:meth:`~ActiveLearner.remove_labels`) or their items ignored for good
(:meth:`~ActiveLearner.ignore`); :meth:`~ActiveLearner.initialize_from_model` starts from an
already-trained classifier with no labels at all. Selection seeds come from
:mod:`al_core.seeding`, the scheme the workspace pipeline uses too.

The production pipeline keeps its state on disk elsewhere; this class is the same loop without
persistence between steps, plus :meth:`ActiveLearner.save`/:meth:`ActiveLearner.load` for
checkpoints.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.classifiers.base import Classifier
from al_core.features import Features, num_rows, take_rows
from al_core.initialization.base import Initializer
from al_core.labels.labelset import UNLABELED
from al_core.query.base import QueryResult, QueryStrategy
from al_core.seeding import derive_seed, selection_seed
from al_core.stopping import StopDecision, StoppingCriterion, build_context
from al_core.storage.atomic import atomic_write_bytes

_FORMAT = "alflow.ActiveLearner"
_FORMAT_VERSION = 1


class LearnerStateError(RuntimeError):
    """A method was called at the wrong point of the learner's lifecycle."""


class ActiveLearner:
    """Pool-based active learning over the features ``X`` of a whole pool, kept in memory.

    ``classifier_factory`` builds an untrained :class:`Classifier`; every (re)training uses a
    fresh one, so no state leaks between rounds, unless ``reuse_model`` is true and the
    classifier supports warm starts (``supports_warm_start``): then the trained instance is
    fitted again, so it can continue from its weights or keep a training schedule (SetFit).
    ``reuse_model=None`` (the default) follows the classifier's own ``wants_reuse``, the rule
    the workspace pipeline applies too.
    Classifiers with ``uses_unlabeled`` also get the unlabelled, non-ignored pool items at
    every fit (semi-supervised learning). ``X`` may be a dense array, a sparse matrix or
    a list of texts (whatever the classifier's ``input_kind`` wants). Labels use the encoding of
    :mod:`al_core.labels`: class indices in ``[0, num_classes)``, or indicator rows for
    ``multi_label``. ``seed`` makes initialization and every query reproducible (the query
    seed is derived from ``seed`` and :attr:`iteration`); it does not seed the classifier,
    which is the factory's job.
    """

    #: The classifier given to :meth:`initialize_from_model`, if any.
    _base_classifier: Classifier | None = None

    def __init__(
        self,
        classifier_factory: Callable[[], Classifier],
        query_strategy: QueryStrategy,
        X: Features,
        *,
        num_classes: int,
        multi_label: bool = False,
        stopping: Sequence[StoppingCriterion] = (),
        seed: int | None = None,
        reuse_model: bool | None = None,
    ) -> None:
        if not callable(classifier_factory):
            raise TypeError("classifier_factory must be a callable that returns a Classifier")
        if int(num_classes) < 1 or (not multi_label and int(num_classes) < 2):
            raise ValueError(f"num_classes must be >= 2 (single-label), got {num_classes}")
        if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        n_pool = num_rows(X)
        if n_pool == 0:
            raise ValueError("the pool X is empty")
        self.classifier_factory = classifier_factory
        self.query_strategy = query_strategy
        self.num_classes = int(num_classes)
        self.multi_label = bool(multi_label)
        self.stopping: list[StoppingCriterion] = list(stopping)
        self.seed = None if seed is None else int(seed)
        self.reuse_model = None if reuse_model is None else bool(reuse_model)
        self._X: Features = X
        self._n_pool = n_pool
        if self.multi_label:
            self._labels = np.zeros((n_pool, self.num_classes), dtype=np.int8)
        else:
            self._labels = np.full(n_pool, UNLABELED, dtype=np.int64)
        self._labeled = np.zeros(n_pool, dtype=bool)
        self._ignored = np.zeros(n_pool, dtype=bool)
        self._classifier: Classifier | None = None
        self._initialized = False
        self._pending: np.ndarray | None = None  # asked but not yet answered, in query order
        self._pending_is_initial = False  # pending came from initialize_with (no gold labels)
        self._iteration = 0
        self.last_train_seconds = 0.0

    # ------------------------------------------------------------------ properties

    @property
    def X(self) -> Features:
        """The pool's features, as passed in."""
        return self._X

    @property
    def n_pool(self) -> int:
        return self._n_pool

    @property
    def labels(self) -> np.ndarray:
        """A copy of the full-pool labels: ``UNLABELED`` (single) or all-zero rows (multi).

        An all-zero multi-label row may also be a real "no label applies" answer, so use
        :attr:`labeled_mask` to tell labelled rows apart.
        """
        return self._labels.copy()

    @property
    def labeled_mask(self) -> np.ndarray:
        """A copy of the boolean mask of labelled pool items."""
        return self._labeled.copy()

    @property
    def ignored_mask(self) -> np.ndarray:
        """A copy of the boolean mask of ignored pool items."""
        return self._ignored.copy()

    @property
    def indices_labeled(self) -> np.ndarray:
        """Pool indices with a label, ascending; exactly the training set."""
        return np.flatnonzero(self._labeled)

    @property
    def indices_unlabeled(self) -> np.ndarray:
        """Pool indices without a label that are not ignored, ascending; the query candidates."""
        return np.flatnonzero(~self._labeled & ~self._ignored)

    @property
    def indices_ignored(self) -> np.ndarray:
        return np.flatnonzero(self._ignored)

    @property
    def indices_pending(self) -> np.ndarray:
        """Indices asked by the last :meth:`query` (or :meth:`initialize_with`) not yet answered."""
        return np.empty(0, dtype=np.int64) if self._pending is None else self._pending.copy()

    @property
    def classifier(self) -> Classifier:
        """The classifier trained on the current labels."""
        if self._classifier is None:
            raise LearnerStateError("no classifier yet: call initialize() first")
        return self._classifier

    @property
    def iteration(self) -> int:
        """Completed query rounds: 0 after initialization, +1 per :meth:`update`."""
        return self._iteration

    @property
    def initialized(self) -> bool:
        return self._initialized

    # ------------------------------------------------------------------ lifecycle

    def initialize(self, indices: Sequence[int] | np.ndarray, y: np.ndarray) -> None:
        """Record the first labels (``y[i]`` for ``indices[i]``) and train the first model."""
        if self._initialized:
            raise LearnerStateError("the learner is already initialized; use update_label_at()")
        idx = self._check_indices(indices, "initialize")
        if len(idx) == 0:
            raise ValueError("initialize() needs at least one labelled item")
        y_arr = self._check_labels(y, len(idx))
        self._train_with(idx, y_arr)
        self._initialized = True
        self._pending = None
        self._pending_is_initial = False
        self._iteration = 0

    def initialize_with(
        self, initializer: Initializer, n: int, y_gold: np.ndarray | None = None
    ) -> np.ndarray:
        """Pick ``n`` items with ``initializer`` among the non-ignored pool; returns them.

        With ``y_gold`` (labels of the whole pool, as in a simulation) the picked items are
        labelled from it and the first model is trained at once. Without it the items become
        pending: answer them with :meth:`update`, which then completes initialization.
        """
        if self._initialized:
            raise LearnerStateError("the learner is already initialized")
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        available = np.flatnonzero(~self._ignored)
        y_avail = None
        if y_gold is not None:
            y_gold = np.asarray(y_gold)
            if len(y_gold) != self._n_pool:
                raise ValueError(
                    f"y_gold must label the whole pool ({self._n_pool} rows), got {len(y_gold)}"
                )
            y_avail = y_gold[available]
        elif getattr(initializer, "needs_labels", False):
            name = getattr(initializer, "name", type(initializer).__name__)
            raise ValueError(f"initializer {name!r} needs gold labels: pass y_gold")
        X_avail = None
        if getattr(initializer, "needs_embeddings", False):
            # the classifier's embed() (it needs no fit), else the features if dense
            embedder = self.classifier_factory()
            if callable(getattr(embedder, "embed", None)):
                from al_core.query import embed_chunked

                X_avail = embed_chunked(embedder, self._X, available)
            elif isinstance(self._X, np.ndarray) and self._X.ndim == 2:
                X_avail = self._X[available]
            else:
                name = getattr(initializer, "name", type(initializer).__name__)
                raise ValueError(
                    f"initializer {name!r} needs embeddings: use a classifier with embed() "
                    "or dense features"
                )
        extra = {} if X_avail is None else {"X": X_avail}  # older initializers take no X
        picked = np.asarray(
            initializer.select(
                len(available), int(n), y=y_avail, seed=derive_seed(self.seed), **extra
            ),
            dtype=np.int64,
        )
        if len(np.unique(picked)) != len(picked) or (
            len(picked) and (picked.min() < 0 or picked.max() >= len(available))
        ):
            raise RuntimeError("the initializer returned duplicate or out-of-range indices")
        indices = available[picked]
        if y_gold is not None:
            self.initialize(indices, y_gold[indices])
        else:
            self._pending = indices
            self._pending_is_initial = True
        return indices.copy()

    def query(self, n: int) -> QueryResult:
        """Ask the strategy for up to ``n`` unlabelled, non-ignored items; remembers them.

        Returns an empty result when nothing is left to ask. Calling ``query`` again before
        :meth:`update` replaces the pending items (and, with the same iteration, the same seed,
        gives the same answer).
        """
        self._require_initialized("query")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        candidates = self.indices_unlabeled
        if n == 0 or len(candidates) == 0:
            result = QueryResult(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        else:
            labeled = self.indices_labeled
            result = self.query_strategy.query(
                self.classifier,
                self._X,
                candidates,
                labeled,
                self._labels[labeled],
                int(n),
                seed=selection_seed(self.seed, self._iteration + 1),
            )
        self._pending = np.asarray(result.indices, dtype=np.int64).copy()
        self._pending_is_initial = False
        return result

    def update(self, y: np.ndarray) -> None:
        """Label the pending items (``y`` in the order :meth:`query` returned them); retrain.

        Items ignored since the query are no longer pending, so ``y`` covers the rest. An empty
        query is answered with an empty ``y`` and changes nothing.
        """
        if self._pending is None:
            raise LearnerStateError("nothing to update: call query() first")
        pending = self._pending
        y_arr = self._check_labels(y, len(pending), what="pending items")
        if self._pending_is_initial:
            if len(pending) == 0:
                raise ValueError("all initial items were ignored: nothing to initialize with")
            self.initialize(pending, y_arr)  # clears the pending items on success
            return
        if len(pending) == 0:
            self._pending = None
            return
        self._train_with(pending, y_arr)
        self._pending = None
        self._iteration += 1

    def update_label_at(self, indices: Sequence[int] | np.ndarray, y: np.ndarray) -> None:
        """Set labels of any pool items (relabel, or label unasked items); retrain.

        Does not count as a query round. Pending items labelled here stop being pending.
        """
        self._require_initialized("update_label_at")
        idx = self._check_indices(indices, "update_label_at", allow_labeled=True)
        y_arr = self._check_labels(y, len(idx))
        if len(idx) == 0:
            return
        self._train_with(idx, y_arr)
        self._drop_pending(idx)

    def ignore(self, indices: Sequence[int] | np.ndarray) -> None:
        """Exclude items for good: never queried, never trained on (e.g. skipped, broken).

        An ignored item that had a label loses it, and the model is retrained without it.
        Ignored items that were pending stop being pending.
        """
        idx = np.unique(self._check_index_values(indices, "ignore"))
        self._unlabel(idx[self._labeled[idx]], "ignoring these items")
        self._ignored[idx] = True
        self._drop_pending(idx)

    def remove_labels(self, indices: Sequence[int] | np.ndarray) -> None:
        """Take the labels of labelled items back: they become unlabelled query candidates.

        Unlike :meth:`ignore`, the items may be queried again. The model is retrained on the
        remaining labels (or returns to the starting model of :meth:`initialize_from_model`
        when none remain). Does not count as a query round.
        """
        self._require_initialized("remove_labels")
        idx = np.unique(self._check_index_values(indices, "remove_labels"))
        unlabeled = idx[~self._labeled[idx]]
        if len(unlabeled):
            raise ValueError(f"remove_labels(): items {unlabeled[:5].tolist()} have no label")
        self._unlabel(idx, "removing these labels")

    def initialize_from_model(self, classifier: Classifier) -> None:
        """Start from an already-trained classifier, with no labels: it makes the first query.

        The learner is initialized at iteration 0. The first :meth:`update` trains a fresh
        classifier from ``classifier_factory`` on the answered labels (let the factory start
        from the same weights to keep what the model knew); if every label is later removed,
        the learner returns to this classifier.
        """
        if self._initialized or self._pending_is_initial:
            raise LearnerStateError("the learner is already initialized (or being initialized)")
        if not callable(getattr(classifier, "predict_proba", None)):
            raise TypeError("initialize_from_model() needs a trained classifier with predict_proba")
        self._base_classifier = classifier
        self._classifier = classifier
        self._initialized = True
        self._pending = None
        self._iteration = 0

    # ------------------------------------------------------------------ stopping

    def check_stop(
        self,
        stopping_indices: Sequence[int] | np.ndarray | None = None,
        eval_metrics: dict[str, float] | None = None,
    ) -> list[StopDecision]:
        """Run every stopping criterion on the current model; one decision per criterion.

        Predictions are made on ``stopping_indices`` (default: the whole pool). Pass the same
        set every time, and call this once per iteration: criteria record history.
        ``eval_metrics`` are the model's scores on a labelled evaluation set, for criteria that
        watch them (``eval-plateau``). The context (:func:`al_core.stopping.build_context`,
        as in the pipeline) has ``iteration`` = :attr:`iteration`, the query rounds the model
        has learned from (0 right after initialization, so ``MaxIterations(k)`` stops after
        ``k`` rounds). A criterion that cannot judge returns a not-applicable decision.
        """
        self._require_initialized("check_stop")
        if not self.stopping:
            return []
        if stopping_indices is None:
            rows = np.arange(self._n_pool)
        else:
            rows = self._check_index_values(stopping_indices, "check_stop")
        proba = None
        if len(rows):
            proba = np.asarray(self.classifier.predict_proba(take_rows(self._X, rows)))
        ctx = build_context(
            iteration=self._iteration,
            num_labeled=int(self._labeled.sum()),
            proba=proba,
            multi_label=self.multi_label,
            labeled=self._labeled[rows],
            eval_metrics=eval_metrics,
        )
        return [criterion.check(ctx) for criterion in self.stopping]

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path, *, include_features: bool = True) -> Path:
        """Pickle the learner (model, labels, criteria' state) to ``path`` atomically.

        The features ``X`` are saved too unless ``include_features=False``; then
        :meth:`load` needs the same ``X`` again. The classifier factory, strategy and criteria
        must be picklable (a class, ``functools.partial`` or module-level function, not a
        lambda).
        """
        state = dict(vars(self))
        if not include_features:
            state["_X"] = None
        payload = {"format": _FORMAT, "version": _FORMAT_VERSION, "state": state}
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(
                f"cannot pickle the learner ({exc}); use a picklable classifier_factory "
                "(a class or module-level function, not a lambda or local function)"
            ) from exc
        return atomic_write_bytes(Path(path), data)

    @classmethod
    def load(cls, path: str | Path, X: Features | None = None) -> ActiveLearner:
        """Restore a learner written by :meth:`save`. Only load files you trust (pickle).

        ``X`` is required when the file was saved without features; when given, it replaces
        the saved features and must have the same number of rows.
        """
        with open(path, "rb") as fh:
            payload: Any = pickle.load(fh)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a saved ActiveLearner")
        if payload.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"{path} has format version {payload.get('version')}, "
                f"this code reads version {_FORMAT_VERSION}"
            )
        state = payload["state"]
        if X is None:
            if state["_X"] is None:
                raise ValueError(f"{path} was saved without features: pass X to load()")
        else:
            if num_rows(X) != state["_n_pool"]:
                raise ValueError(
                    f"X has {num_rows(X)} rows but the saved pool has {state['_n_pool']}"
                )
            state["_X"] = X
        learner = cls.__new__(cls)
        learner.__dict__.update(state)
        return learner

    def __repr__(self) -> str:
        return (
            f"ActiveLearner(pool={self._n_pool}, labeled={int(self._labeled.sum())}, "
            f"ignored={int(self._ignored.sum())}, iteration={self._iteration}, "
            f"strategy={self.query_strategy!r})"
        )

    # ------------------------------------------------------------------ internals

    def _require_initialized(self, method: str) -> None:
        if self._initialized:
            return
        if self._pending_is_initial:
            raise LearnerStateError(
                f"{method}() before initialization finished: answer the initial items with "
                "update(y)"
            )
        raise LearnerStateError(
            f"{method}() needs an initialized learner: call initialize() or initialize_with()"
        )

    def _check_index_values(self, indices: Sequence[int] | np.ndarray, method: str) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.size == 0:
            return np.empty(0, dtype=np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(f"{method}(): indices must be a 1-D sequence of integers")
        idx = idx.astype(np.int64)
        if idx.min() < 0 or idx.max() >= self._n_pool:
            bad = idx[(idx < 0) | (idx >= self._n_pool)][:5].tolist()
            raise IndexError(f"{method}(): indices {bad} are outside the pool [0, {self._n_pool})")
        return idx

    def _check_indices(
        self, indices: Sequence[int] | np.ndarray, method: str, *, allow_labeled: bool = False
    ) -> np.ndarray:
        idx = self._check_index_values(indices, method)
        if len(np.unique(idx)) != len(idx):
            raise ValueError(f"{method}(): indices contain duplicates")
        ignored = idx[self._ignored[idx]]
        if len(ignored):
            raise ValueError(f"{method}(): items {ignored[:5].tolist()} are ignored")
        if not allow_labeled:
            labeled = idx[self._labeled[idx]]
            if len(labeled):
                raise ValueError(f"{method}(): items {labeled[:5].tolist()} are already labelled")
        return idx

    def _check_labels(self, y: np.ndarray, expected: int, *, what: str = "indices") -> np.ndarray:
        y_arr = np.asarray(y)
        if y_arr.ndim == 0:
            raise ValueError("labels must be a sequence (one entry per item), not a scalar")
        if y_arr.size == 0 and expected == 0:
            shape = (0, self.num_classes) if self.multi_label else (0,)
            return np.empty(shape, dtype=np.int8 if self.multi_label else np.int64)
        if self.multi_label:
            if y_arr.ndim != 2 or y_arr.shape[1] != self.num_classes:
                raise ValueError(
                    f"multi-label y must be an indicator matrix of shape (n, {self.num_classes}),"
                    f" got shape {y_arr.shape}"
                )
        elif y_arr.ndim != 1:
            raise ValueError(f"single-label y must be 1-D class indices, got shape {y_arr.shape}")
        if len(y_arr) != expected:
            raise ValueError(f"got {len(y_arr)} labels for {expected} {what}")
        if self.multi_label:
            if y_arr.dtype.kind not in "iub" or not np.isin(y_arr, (0, 1)).all():
                raise ValueError(
                    "multi-label y must be an integer or boolean matrix of only 0 and 1"
                )
            return y_arr.astype(np.int8)
        if y_arr.dtype.kind not in "iu":
            raise TypeError(f"single-label y must be integer class indices, got {y_arr.dtype}")
        bad = y_arr[(y_arr < 0) | (y_arr >= self.num_classes)]
        if len(bad):
            raise ValueError(
                f"labels {sorted(set(bad.tolist()))[:5]} are out of range [0, {self.num_classes})"
            )
        return y_arr.astype(np.int64)

    def _train_with(self, idx: np.ndarray, y: np.ndarray) -> None:
        """Write labels for ``idx`` and retrain; on a failed fit the labels are rolled back."""
        old_labels = self._labels[idx].copy()
        old_mask = self._labeled[idx].copy()
        self._labels[idx] = y
        self._labeled[idx] = True
        try:
            self._fit()
        except BaseException:
            self._labels[idx] = old_labels
            self._labeled[idx] = old_mask
            raise

    def _fit(self) -> None:
        labeled = self.indices_labeled
        reuse = getattr(self, "reuse_model", False)
        if reuse is None:  # as the classifier wants (SetFit keeps its body between rounds)
            reuse = getattr(self._classifier, "wants_reuse", False)
        reuse = reuse and getattr(self._classifier, "supports_warm_start", False)
        clf = self._classifier if reuse else self.classifier_factory()
        kwargs = {}
        if getattr(clf, "uses_unlabeled", False):
            kwargs["unlabeled"] = take_rows(self._X, self.indices_unlabeled)
        start = time.perf_counter()
        clf.fit(take_rows(self._X, labeled), self._labels[labeled], **kwargs)
        self.last_train_seconds = time.perf_counter() - start
        self._classifier = clf

    def _unlabel(self, idx: np.ndarray, what: str) -> None:
        """Clear the labels of ``idx`` and retrain; on a failed fit the labels are restored."""
        if len(idx) == 0:
            return
        old_labels = self._labels[idx].copy()
        self._labeled[idx] = False
        self._labels[idx] = 0 if self.multi_label else UNLABELED
        if not self._initialized:
            return
        try:
            if self._labeled.any():
                self._fit()
            elif self._base_classifier is not None:
                self._classifier = self._base_classifier
            else:
                raise ValueError(f"{what} would leave no labelled item to train on")
        except BaseException:
            self._labels[idx] = old_labels
            self._labeled[idx] = True
            raise

    def _drop_pending(self, idx: np.ndarray) -> None:
        if self._pending is not None and len(idx):
            self._pending = self._pending[~np.isin(self._pending, idx)]
