"""Data for simulations: labelled splits read from files, their features, a full-data score.

Plain functions (no Prefect); ``tasks/simulate.py`` wraps each as a task.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.device import single_thread_blas
from al_core.errors import InputFileError
from al_core.features import Features
from al_core.labels import LabelSet

# Kept short: a missing cell in a column of labels or texts is a data error the user fixes.
_MAX_ROWS_SHOWN = 5


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _row_list(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_SHOWN])
    return shown + (", ..." if len(rows) > _MAX_ROWS_SHOWN else "")


def load_labelled_split(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    label_separator: str | None = None,
) -> tuple[list[str], list[str] | list[list[str]]]:
    """Texts and gold labels of a labelled file, in file order.

    Labels are strings (single-label), or lists of strings (multi-label) when the column holds
    lists (Parquet list columns, e.g. GoEmotions' ``labels``) or when ``label_separator``
    splits string cells (``"admiration,joy"`` with ``","``). Raises :class:`InputFileError`
    when a column is missing or a text or label is empty.
    """
    from al_core.ingest.readers import read_table

    frame = read_table(path)
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        kinds = {text_column: "text", label_column: "label"}
        what = " and ".join(f"{kinds[c]} column {c!r}" for c in missing)
        raise InputFileError(
            f"{path}: no {what}; the columns are {', '.join(map(str, frame.columns))} "
            "(choose others with --text-column / --label-column)"
        )
    if len(frame) == 0:
        raise InputFileError(f"{path}: no rows")
    texts_raw = frame[text_column].tolist()
    labels_raw = frame[label_column].tolist()

    bad_text = [i for i, t in enumerate(texts_raw) if _is_missing(t)]
    if bad_text:
        raise InputFileError(
            f"{path}: {len(bad_text)} rows have an empty {text_column!r} "
            f"(rows {_row_list(bad_text)}, counting from 0)"
        )
    listy = [isinstance(v, list | tuple | np.ndarray) for v in labels_raw]
    bad_label = [i for i, v in enumerate(labels_raw) if not listy[i] and _is_missing(v)]
    if bad_label:
        raise InputFileError(
            f"{path}: {len(bad_label)} rows have no {label_column!r} (rows "
            f"{_row_list(bad_label)}, counting from 0); a simulation needs a gold label per row"
        )
    texts = [t if isinstance(t, str) else str(t) for t in texts_raw]
    if not any(listy) and label_separator is None:
        return texts, [str(v).strip() for v in labels_raw]
    labels: list[list[str]] = []
    for v, is_list in zip(labels_raw, listy, strict=True):
        if is_list:
            items = list(v)
        else:
            items = str(v).split(label_separator) if label_separator else [str(v)]
        labels.append(sorted({str(x).strip() for x in items if str(x).strip()}))
    return texts, labels


def encode_splits(
    train_labels: Sequence[str] | Sequence[Sequence[str]],
    test_labels: Sequence[str] | Sequence[Sequence[str]],
    *,
    train_name: str = "train",
    test_name: str = "test",
) -> tuple[LabelSet, np.ndarray, np.ndarray]:
    """The label set (sorted labels of the training file) and both splits encoded with it.

    Multi-label when the labels are lists. Raises :class:`InputFileError` when the training
    file has fewer than 2 labels or the test file has labels the training file lacks.
    """
    multi = bool(train_labels) and not isinstance(train_labels[0], str)
    if multi != (bool(test_labels) and not isinstance(test_labels[0], str)):
        raise InputFileError(
            f"{train_name} and {test_name} disagree: one holds label lists, the other single labels"
        )

    def flat(labels) -> list[str]:
        return [x for v in labels for x in v] if multi else list(labels)

    names = sorted(set(flat(train_labels)))
    if len(names) < 2:
        raise InputFileError(f"{train_name}: a simulation needs at least 2 labels, found {names}")
    unknown = sorted(set(flat(test_labels)) - set(names))
    if unknown:
        bad = set(unknown)
        n_rows = sum(1 for v in test_labels if (set(v) if multi else {v}) & bad)
        raise InputFileError(
            f"{test_name}: {n_rows} rows have labels that the training file lacks: "
            f"{', '.join(unknown)} (the label set from {train_name} is {', '.join(names)})"
        )
    label_set = LabelSet(names, multi_label=multi)
    return label_set, label_set.encode(train_labels), label_set.encode(test_labels)


def stopping_rows(texts: Sequence[str], size: int) -> np.ndarray:
    """The pool rows of the stopping set: the ``size`` texts with the smallest content hash.

    The same rule as the workspace pipeline's stopping set (a deterministic, effectively random
    sample), so every strategy and seed is judged on the same items. Sorted row indices.
    """
    from al_core.hashing import content_hashes

    if size < 1:
        raise ValueError(f"the stopping set needs size >= 1, got {size}")
    hashes = np.asarray(content_hashes(list(texts)))
    return np.sort(np.argsort(hashes, kind="stable")[: int(size)])


def split_features(
    train_texts: Sequence[str],
    test_texts: Sequence[str],
    embedder: str | None,
    cache_dir: str | Path | None = None,
) -> tuple[Features, Features, dict[str, Any]]:
    """Features of the training and test texts, plus facts about how they were made.

    * ``embedder=None`` (a classifier that reads texts): the texts themselves.
    * a cacheable embedder (``minilm``, a local sentence-transformers folder): vectors from
      the :class:`~al_core.embeddings.EmbeddingCache` under ``cache_dir``; only texts not yet
      cached are embedded (train and test in one pass).
    * a fitted embedder (``tfidf``): fitted on the training texts only, then applied to both.

    The info dict holds ``embedder``, ``model_id``, ``dimension``, ``seconds``, ``cached``
    and ``embedded`` (texts read from the cache / newly embedded; None when not cacheable).
    """
    from al_core.registry import make_embedder

    start = time.perf_counter()
    train_texts, test_texts = list(train_texts), list(test_texts)
    if embedder is None:
        info = {"embedder": None, "model_id": None, "dimension": None, "cached": None}
        info |= {"embedded": None, "seconds": time.perf_counter() - start}
        return train_texts, test_texts, info

    emb = make_embedder(embedder)
    cached = embedded = None
    if getattr(emb, "cacheable", False):
        from al_core.embeddings import EmbeddingCache
        from al_core.hashing import content_hashes

        if cache_dir is None:
            raise ValueError("split_features: a cacheable embedder needs a cache_dir")
        cache = EmbeddingCache(cache_dir)
        texts = train_texts + test_texts
        hashes = content_hashes(texts)
        before = cache.count(emb.model_id)
        matrix = cache.get_or_compute(emb, texts, content_hashes=hashes)
        embedded = cache.count(emb.model_id) - before
        cached = len(set(hashes)) - embedded
        X_train, X_test = matrix[: len(train_texts)], matrix[len(train_texts) :]
    else:
        X_train = emb.fit_transform(train_texts)
        X_test = emb.transform(test_texts)
    info = {
        "embedder": embedder,
        "model_id": emb.model_id,
        "dimension": int(X_train.shape[1]),
        "cached": cached,
        "embedded": embedded,
        "seconds": time.perf_counter() - start,
    }
    return X_train, X_test, info


def score_on_full_data(
    X_train: Features,
    y_train: np.ndarray,
    X_test: Features,
    y_test: np.ndarray,
    *,
    classifier: str,
    num_classes: int,
    seed: int = 0,
) -> dict[str, float]:
    """Test scores of ``classifier`` trained on every training row: the curves' ceiling.

    Returns ``accuracy``, ``macro_f1`` and ``micro_f1`` (multi-label when ``y_train`` is an
    indicator matrix).
    """
    from al_core.metrics import scores
    from al_core.registry import make_classifier

    y_train = np.asarray(y_train)
    multi = y_train.ndim == 2
    clf = make_classifier(classifier, num_classes=num_classes, multi_label=multi, seed=seed)
    with single_thread_blas():
        clf.fit(X_train, y_train)
        predictions = np.asarray(clf.predict(X_test))
    return scores(np.asarray(y_test), predictions, num_classes)
