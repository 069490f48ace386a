"""Prefect tasks of the simulation flow: load, embed, simulate, score on all data, report.

Each task is a thin wrapper around :mod:`al_core`; the flow (``flows/simulate.py``) decides
the order. Inputs are feature matrices and models, so every task uses ``NO_CACHE``: the default
cache policy would hash (pickle) those inputs on every call, which costs time and logs errors
for objects that cannot be pickled.

Model fitting runs with BLAS limited to one thread (:func:`al_core.device.single_thread_blas`): the fits are
small (hundreds of rows, a few hundred features), and a multi-threaded OpenBLAS spends far
more time synchronising than computing. Measured here on 2 busy cores, fitting the
embedding-logreg head on 525 MiniLM rows took 2.4-2.8 s with 2 BLAS threads and 0.02 s with
one; on all 5452 TREC-6 rows 6-8 s against 0.8-1.2 s.

The plain functions stay callable without a Prefect run through ``.fn`` (e.g.
``load_split.fn(path, "text", "label")``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.device import single_thread_blas
from al_core.errors import InputFileError
from al_core.features import Features

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


@task(name="load-split", cache_policy=NO_CACHE)
def load_split(
    path: str | Path, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """Texts and gold labels (as strings) of a labelled file, in file order.

    Raises :class:`InputFileError` when a column is missing, a text or label is empty, or a
    label is a list (multi-label files are not simulated here).
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
    listy = [i for i, v in enumerate(labels_raw) if isinstance(v, list | tuple | np.ndarray)]
    if listy:
        raise InputFileError(
            f"{path}: column {label_column!r} holds label lists (rows {_row_list(listy)}); "
            "simulations support single-label data only"
        )
    bad_label = [i for i, v in enumerate(labels_raw) if _is_missing(v)]
    if bad_label:
        raise InputFileError(
            f"{path}: {len(bad_label)} rows have no {label_column!r} (rows "
            f"{_row_list(bad_label)}, counting from 0); a simulation needs a gold label per row"
        )
    texts = [t if isinstance(t, str) else str(t) for t in texts_raw]
    labels = [str(v).strip() for v in labels_raw]
    return texts, labels


@task(name="embed-splits", cache_policy=NO_CACHE)
def embed_splits(
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
            raise ValueError("embed_splits: a cacheable embedder needs a cache_dir")
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


@task(
    name="simulate-strategy",
    cache_policy=NO_CACHE,
    task_run_name="simulate-{strategy}-seed{seed}",
)
def run_strategy_seed(
    X_train: Features,
    y_train: np.ndarray,
    X_test: Features,
    y_test: np.ndarray,
    *,
    strategy: str,
    classifier: str,
    num_classes: int,
    initializer: str,
    initial: int,
    batch_size: int,
    iterations: int,
    seed: int,
    progress_callback: Callable[[int], None] | None = None,
):
    """One simulated run (:func:`al_core.simulation.simulate`) of ``strategy`` under ``seed``.

    Every run trains fresh classifiers seeded with ``seed``; the result is a
    :class:`~al_core.simulation.SimulationRun`.
    """
    from al_core.registry import make_classifier, make_initializer, make_strategy
    from al_core.simulation import simulate

    def factory():
        return make_classifier(classifier, num_classes=num_classes, multi_label=False, seed=seed)

    with single_thread_blas():
        return simulate(
            X_train,
            y_train,
            X_test,
            y_test,
            classifier_factory=factory,
            strategy=make_strategy(strategy),
            initializer=make_initializer(initializer),
            initial=initial,
            batch_size=batch_size,
            iterations=iterations,
            seed=seed,
            progress_callback=progress_callback,
            num_classes=num_classes,
            name=strategy,
        )


@task(name="full-data-accuracy", cache_policy=NO_CACHE)
def full_data_accuracy(
    X_train: Features,
    y_train: np.ndarray,
    X_test: Features,
    y_test: np.ndarray,
    *,
    classifier: str,
    num_classes: int,
    seed: int = 0,
) -> float:
    """Test accuracy of ``classifier`` trained on every training row: the curves' ceiling."""
    from al_core.metrics import accuracy
    from al_core.registry import make_classifier

    clf = make_classifier(classifier, num_classes=num_classes, multi_label=False, seed=seed)
    with single_thread_blas():
        clf.fit(X_train, np.asarray(y_train))
        predictions = np.asarray(clf.predict(X_test))
    return accuracy(np.asarray(y_test), predictions)


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(
    summary: dict[str, Any], runs: Sequence[Any], out_dir: str | Path, artifacts: bool = True
) -> dict[str, str]:
    """Write summary.json, curve.csv, learning_curve.png and report.md under ``out_dir``.

    With ``artifacts`` (and inside a flow run) the results table and the report are also
    published as Prefect artifacts, so the run's page in the UI shows them. Returns the
    written paths as strings under the keys ``summary``, ``curve``, ``plot`` and ``report``.
    """
    from al_core.simulation import write_outputs

    paths = write_outputs(summary, runs, out_dir)
    if artifacts:
        _publish_artifacts(summary, paths)
    return {k: str(v) for k, v in paths.items()}


def _publish_artifacts(summary: dict[str, Any], paths: dict[str, Path]) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import TaskRunContext

    if TaskRunContext.get() is None:  # called through .fn: no run to attach them to
        return
    rows = [
        {
            "strategy": e["strategy"],
            "auc": round(e["auc"], 4),
            "final_accuracy": round(e["final_accuracy"], 4),
            "labels": e["labels"][-1],
            "query_s": round(e["query_seconds"], 3),
            "train_s": round(e["train_seconds"], 3),
        }
        for e in summary["results"]
    ]
    create_table_artifact(
        key="alflow-simulation-results",
        table=rows,
        description=f"{summary['dataset']}: {summary['classifier']} on {summary['embedder']}",
    )
    create_markdown_artifact(
        key="alflow-simulation-report",
        markdown=paths["report"].read_text(encoding="utf-8"),
        description=str(paths["report"]),
    )
