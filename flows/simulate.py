"""The simulation flow: compare query strategies on a labelled train/test pair.

Gold labels play the annotator (:mod:`al_core.simulation`). Every chosen strategy runs under
seeds ``0 .. seeds-1`` with the same classifier, initializer and budget, always beside the
random-sampling baseline, and the flow writes ``summary.json``, ``curve.csv``,
``learning_curve.png`` and ``report.md`` to ``out_dir``::

    from flows.simulate import simulate_flow
    summary = simulate_flow("train.parquet", "test.parquet", ["least-confidence"], seeds=3)

Names are checked before any file is read (:func:`check_config`, also used by the command
line so a typo fails before Prefect starts), and label problems before anything is embedded.
The label set is the sorted set of labels in the training file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prefect import flow

from al_core.errors import ConfigError, InputFileError
from al_core.labels import LabelSet
from tasks.simulate import (
    embed_splits,
    full_data_accuracy,
    load_split,
    run_strategy_seed,
    write_report,
)

DEFAULT_OUT_DIR = ".alflow/simulation"
BASELINE = "random"
EMBEDDING_CACHE_SUBDIR = ".embeddings"

#: ``progress(step, completed, total)``: ``step`` describes what runs now, ``completed`` of
#: ``total`` simulation rounds (strategies x seeds x iterations) are done.
ProgressFn = Callable[[str, int, int], None]


def plan_strategies(strategies: str | Sequence[str]) -> list[str]:
    """Strategy names in the order given (comma-separated items allowed), without duplicates,
    plus the random baseline when it is not among them."""
    items = [strategies] if isinstance(strategies, str) else list(strategies)
    names: list[str] = []
    for item in items:
        for name in str(item).split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    if not names:
        raise ConfigError("no strategy given; name at least one (see `alflow list strategies`)")
    if BASELINE not in names:
        names.append(BASELINE)
    return names


def check_config(
    strategies: str | Sequence[str],
    *,
    classifier: str,
    embedder: str | None,
    initializer: str,
    initial: int,
    batch_size: int,
    iterations: int,
    seeds: int,
) -> tuple[list[str], str | None]:
    """Validate names and sizes; return the strategy plan and the embedder actually used.

    The embedder is None for a classifier that reads texts. Raises :class:`ConfigError` with
    the valid choices on any unknown name, and when a strategy cannot work with the classifier
    (it needs something the classifier lacks, or does not do single-label tasks).
    """
    from al_core import registry

    for name, value, low in (
        ("initial", initial, 1),
        ("batch_size", batch_size, 1),
        ("iterations", iterations, 0),
        ("seeds", seeds, 1),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    plan = plan_strategies(strategies)
    clf_cls = registry.lookup("classifiers", classifier)
    registry.lookup("initializers", initializer)
    if clf_cls.input_kind == "texts":
        if embedder:
            raise ConfigError(
                f"classifier {classifier!r} reads texts itself; do not pass an embedder"
            )
        embedder_name = None
    else:
        embedder_name = registry.resolve_embedder_name(classifier, embedder)
        registry.make_embedder(embedder_name)  # unknown name -> ConfigError; cheap, loads nothing
    known = registry.registry("strategies")
    unknown = [name for name in plan if name not in known]
    if unknown:
        raise ConfigError(
            f"unknown strategy {', '.join(map(repr, unknown))}; choose from {', '.join(known)}"
        )
    needs_attr = {"probabilities": "predict_proba", "embeddings": "embed"}
    for name in plan:
        cls = known[name]
        if "single" not in cls.label_types:
            raise ConfigError(f"strategy {name!r} does not support single-label tasks")
        for need in cls.needs:
            attr = needs_attr.get(need)
            if attr and not callable(getattr(clf_cls, attr, None)):
                raise ConfigError(
                    f"strategy {name!r} needs {need}, which classifier {classifier!r} "
                    f"does not provide"
                )
    return plan, embedder_name


def dataset_name(train: str | Path) -> str:
    """A short dataset name: the folder of ``data/trec6/train.parquet``, else the file stem."""
    path = Path(str(train))
    if path.stem.lower() in {"train", "training", "train_set", "trainset"} and path.parent.name:
        return path.parent.name
    return path.stem or str(train)


@flow(name="alflow-simulate", flow_run_name="simulate-{classifier}")
def simulate_flow(
    train: str | Path,
    test: str | Path,
    strategies: list[str] | str,
    classifier: str = "embedding-logreg",
    embedder: str | None = None,
    initial: int = 25,
    batch_size: int = 25,
    iterations: int = 20,
    seeds: int = 3,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    text_column: str = "text",
    label_column: str = "label",
    initializer: str = "random",
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    dataset: str | None = None,
) -> dict[str, Any]:
    """Simulate active learning for each strategy (plus random) and seed; write the report.

    ``cache_dir`` holds embeddings of cacheable embedders (default ``<out_dir>/.embeddings``);
    share one between runs so texts are embedded once. ``progress`` is called as
    ``progress(step, completed, total)`` (see :data:`ProgressFn`). Returns the summary
    written to ``summary.json`` (see :func:`al_core.simulation.summarize`), with
    ``embedding`` facts and phase ``timings`` (seconds) added.
    """
    start = time.perf_counter()
    plan, embedder_name = check_config(
        strategies,
        classifier=classifier,
        embedder=embedder,
        initializer=initializer,
        initial=initial,
        batch_size=batch_size,
        iterations=iterations,
        seeds=seeds,
    )
    seed_list = list(range(seeds))
    total = len(plan) * len(seed_list) * iterations
    report = progress or (lambda step, completed, total: None)
    out = Path(out_dir)
    cache = Path(cache_dir) if cache_dir is not None else out / EMBEDDING_CACHE_SUBDIR
    timings: dict[str, float] = {}

    report("reading files", 0, total)
    t0 = time.perf_counter()
    train_texts, train_labels = load_split(train, text_column, label_column)
    test_texts, test_labels = load_split(test, text_column, label_column)
    names = sorted(set(train_labels))
    if len(names) < 2:
        raise InputFileError(f"{train}: a simulation needs at least 2 labels, found {names}")
    unknown = sorted(set(test_labels) - set(names))
    if unknown:
        bad = set(unknown)
        n_rows = sum(1 for v in test_labels if v in bad)
        raise InputFileError(
            f"{test}: {n_rows} rows have labels that the training file lacks: "
            f"{', '.join(unknown)} (the label set from {train} is {', '.join(names)})"
        )
    if initial >= len(train_texts):
        raise ConfigError(
            f"initial ({initial}) must be smaller than the training file ({len(train_texts)} rows)"
        )
    label_set = LabelSet(names)
    y_train, y_test = label_set.encode(train_labels), label_set.encode(test_labels)
    timings["load_seconds"] = time.perf_counter() - t0

    n_texts = len(train_texts) + len(test_texts)
    report(f"embedding {n_texts} texts ({embedder_name or 'none'})", 0, total)
    X_train, X_test, emb_info = embed_splits(train_texts, test_texts, embedder_name, cache)
    timings["embed_seconds"] = emb_info["seconds"]

    report("training on all labels", 0, total)
    t0 = time.perf_counter()
    try:
        full_acc = full_data_accuracy(
            X_train, y_train, X_test, y_test, classifier=classifier, num_classes=len(names)
        )
    except TypeError as exc:  # the first fit: features of a kind the classifier cannot read
        raise ConfigError(
            f"classifier {classifier!r} cannot use {embedder_name!r} features: {exc}"
        ) from exc
    timings["full_data_seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    runs = []
    done = 0
    for strategy in plan:
        for seed in seed_list:
            step = f"{strategy} seed {seed}"
            report(step, done, total)

            def on_round(i: int, _base: int = done, _step: str = step) -> None:
                report(_step, _base + i, total)

            runs.append(
                run_strategy_seed(
                    X_train,
                    y_train,
                    X_test,
                    y_test,
                    strategy=strategy,
                    classifier=classifier,
                    num_classes=len(names),
                    initializer=initializer,
                    initial=initial,
                    batch_size=batch_size,
                    iterations=iterations,
                    seed=seed,
                    progress_callback=on_round,
                )
            )
            done += iterations
    timings["simulate_seconds"] = time.perf_counter() - t0

    settings = {
        "initial": initial,
        "batch_size": batch_size,
        "iterations": iterations,
        "initializer": initializer,
        "train": str(train),
        "test": str(test),
        "train_size": len(train_texts),
        "test_size": len(test_texts),
        "label_set": ", ".join(names),
    }
    from al_core.simulation import summarize

    summary = summarize(
        runs,
        dataset=dataset or dataset_name(train),
        classifier=classifier,
        embedder=embedder_name or "none",
        seeds=seed_list,
        full_data_accuracy=full_acc,
        settings=settings,
    )
    summary["embedding"] = {k: v for k, v in emb_info.items() if k != "seconds"}
    timings["total_seconds"] = time.perf_counter() - start
    summary["timings"] = {k: round(v, 4) for k, v in timings.items()}
    report("writing the report", total, total)
    write_report(summary, runs, out)
    return summary
