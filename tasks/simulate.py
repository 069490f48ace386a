"""Prefect tasks of the simulation flow: load, embed, simulate, score on all data, report.

Each task is a thin wrapper around :mod:`al_core.simulation`; the flow (``flows/simulate.py``) decides
the order. Inputs are feature matrices and models, so every task uses ``NO_CACHE``: the default
cache policy would hash (pickle) those inputs on every call, which costs time and logs errors
for objects that cannot be pickled.

Model fitting runs with BLAS limited to one thread (:func:`al_core.device.single_thread_blas`):
measured on 2 busy cores, fitting the embedding-logreg head on all 5452 TREC-6 rows took 6-8 s
with 2 BLAS threads against 0.8-1.2 s with one.

The plain functions stay callable without a Prefect run through ``.fn`` (e.g.
``load_split.fn(path, "text", "label")``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from al_core.device import single_thread_blas
from al_core.features import Features
from al_core.simulation.data import load_labelled_split, score_on_full_data, split_features


@task(name="load-split", cache_policy=NO_CACHE)
def load_split(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    label_separator: str | None = None,
) -> tuple[list[str], list[Any]]:
    """Texts and gold labels of a labelled file (see :func:`load_labelled_split`)."""
    return load_labelled_split(path, text_column, label_column, label_separator)


@task(name="embed-splits", cache_policy=NO_CACHE)
def embed_splits(
    train_texts: Sequence[str],
    test_texts: Sequence[str],
    embedder: str | None,
    cache_dir: str | Path | None = None,
) -> tuple[Features, Features, dict[str, Any]]:
    """Features of both splits, cached where the embedder allows (see :mod:`al_core.simulation.data`)."""
    return split_features(train_texts, test_texts, embedder, cache_dir)


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
    stopping: Sequence[str] = (),
    stopping_indices: np.ndarray | None = None,
):
    """One simulated run (:func:`al_core.simulation.simulate`) of ``strategy`` under ``seed``.

    Every run trains fresh classifiers seeded with ``seed``; the result is a
    :class:`~al_core.simulation.SimulationRun`. Multi-label when ``y_train`` is an indicator
    matrix; ``stopping`` criteria are checked on the pool rows ``stopping_indices``.
    """
    from al_core.registry import make_classifier, make_initializer, make_strategy
    from al_core.simulation import simulate

    multi_label = np.ndim(y_train) == 2

    def factory():
        return make_classifier(
            classifier, num_classes=num_classes, multi_label=multi_label, seed=seed
        )

    # Classifiers built to be refitted (SetFit's schedule, warm starts) keep one instance.
    reuse = factory().wants_reuse

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
            stopping=stopping,
            stopping_indices=stopping_indices,
            reuse_model=reuse,
        )


@task(name="full-data-scores", cache_policy=NO_CACHE)
def full_data_scores(
    X_train: Features,
    y_train: np.ndarray,
    X_test: Features,
    y_test: np.ndarray,
    *,
    classifier: str,
    num_classes: int,
    seed: int = 0,
) -> dict[str, float]:
    """Test scores of ``classifier`` trained on every training row: the curves' ceiling."""
    return score_on_full_data(
        X_train,
        y_train,
        X_test,
        y_test,
        classifier=classifier,
        num_classes=num_classes,
        seed=seed,
    )


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
    import re

    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.context import TaskRunContext

    if TaskRunContext.get() is None:  # called through .fn: no run to attach them to
        return
    rows = [
        {
            "strategy": e["strategy"],
            "auc": round(e["auc"], 4),
            "auc_std": None if e["auc_spread"]["std"] is None else round(e["auc_spread"]["std"], 4),
            "final_accuracy": round(e["final_accuracy"], 4),
            "final_score": round(e["final_score"], 4),
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
    create_table_artifact(
        key="alflow-simulation-curve",
        table=[  # one row per strategy and round, means over seeds
            {
                "strategy": e["strategy"],
                "labels": int(n),
                "accuracy": round(float(a), 4),
                "accuracy_std": round(float(sd), 4),
                "macro_f1": round(float(f), 4),
            }
            for e in summary["results"]
            for n, a, sd, f in zip(
                e["labels"], e["accuracy"], e["accuracy_std"], e["macro_f1"], strict=True
            )
        ],
        description="learning curves (mean over seeds) of "
        f"{summary['dataset']}: {summary['classifier']} on {summary['embedder']}",
    )
    # A local image path does not render in the UI: point to the curve table instead.
    report = re.sub(
        r"!\[[^\]]*\]\([^)]*\)",
        f"(learning curve: the table artifact `alflow-simulation-curve`; "
        f"the plot is {paths['plot']})",
        paths["report"].read_text(encoding="utf-8"),
    )
    create_markdown_artifact(
        key="alflow-simulation-report", markdown=report, description=str(paths["report"])
    )
