"""The simulation flow: compare query strategies on a labelled train/test pair.

Gold labels play the annotator (:mod:`al_core.simulation`). Every chosen strategy runs under
seeds ``0 .. seeds-1`` with the same classifier, initializer and budget, always beside the
random-sampling baseline, and the flow writes ``summary.json``, ``curve.csv``,
``learning_curve.png`` and ``report.md`` to ``out_dir``::

    from flows.simulate import simulate_flow
    summary = simulate_flow("train.parquet", "test.parquet", ["least-confidence"], seeds=3)

Names are checked before any file is read (:func:`check_config`, also used by the command
line so a typo fails before Prefect starts), and label problems before anything is embedded.
The label set is the sorted set of labels in the training file; a label column of lists (or
``label_separator``) makes the task multi-label, where every strategy must support multi-label
data and the curves are read on micro-F1. ``stopping`` criteria (text, see
:mod:`al_core.stopping.spec`) are checked at every point on a fixed stopping set and
``summary.json`` records, per strategy, where each first said stop (``stopped_at``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from prefect import flow

from al_core.errors import ConfigError
from al_core.stopping import split_specs
from tasks.simulate import (
    embed_splits,
    full_data_scores,
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
    stopping: str | Sequence[str] = (),
    multi_label: bool | None = None,
) -> tuple[list[str], str | None]:
    """Validate names and sizes; return the strategy plan and the embedder actually used.

    The embedder is None for a classifier that reads texts. Raises :class:`ConfigError` with
    the valid choices on any unknown name, on malformed ``stopping`` text, and when a strategy
    cannot work with the classifier (it needs something the classifier lacks). With
    ``multi_label`` known, the strategies and the classifier must support that label type;
    with None (before the files are read) each strategy must support some label type the
    classifier supports.
    """
    from al_core import registry
    from al_core.stopping import build_criteria

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
    build_criteria(stopping, num_classes=2)  # syntax and names; the label set comes later
    if clf_cls.input_kind == "texts":
        if embedder:
            raise ConfigError(
                f"classifier {classifier!r} reads texts itself; do not pass an embedder"
            )
        embedder_name = None
    else:
        embedder_name = registry.resolve_embedder_name(classifier, embedder)
        registry.make_embedder(embedder_name)  # unknown name -> ConfigError; cheap, loads nothing
    clf_types = {"single", "multi"} if clf_cls.supports_multi_label else {"single"}
    if multi_label is not None:
        kind = "multi" if multi_label else "single"
        if kind not in clf_types:
            raise ConfigError(f"classifier {classifier!r} does not support {kind}-label data")
        clf_types = {kind}
    for name in plan:  # unknown names, label types and needs, wrappers (seals:badge) included
        registry.check_strategy_fits(name, classifier, clf_types)
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
    stopping: list[str] | str | None = None,
    stopping_set_size: int = 1000,
    target: float | None = None,
    label_separator: str | None = None,
) -> dict[str, Any]:
    """Simulate active learning for each strategy (plus random) and seed; write the report.

    ``cache_dir`` holds embeddings of cacheable embedders (default ``<out_dir>/.embeddings``);
    share one between runs so texts are embedded once. ``progress`` is called as
    ``progress(step, completed, total)`` (see :data:`ProgressFn`). ``stopping`` lists
    criteria as text; they are checked on the ``stopping_set_size`` training texts with the
    smallest content hash. ``target`` is the score for the labels-to-target figures (default:
    95% of the full-data score). Returns the summary written to ``summary.json`` (see
    :func:`al_core.simulation.summarize`), with ``embedding`` facts and phase ``timings``
    (seconds) added.
    """
    from al_core.simulation import encode_splits, stopping_rows

    start = time.perf_counter()
    stop_specs = [] if stopping is None else split_specs(stopping)
    plan, embedder_name = check_config(
        strategies,
        classifier=classifier,
        embedder=embedder,
        initializer=initializer,
        initial=initial,
        batch_size=batch_size,
        iterations=iterations,
        seeds=seeds,
        stopping=stop_specs,
    )
    if stopping_set_size < 1:
        raise ConfigError(f"stopping_set_size must be >= 1, got {stopping_set_size}")
    seed_list = list(range(seeds))
    total = len(plan) * len(seed_list) * iterations
    report = progress or (lambda step, completed, total: None)
    out = Path(out_dir)
    cache = Path(cache_dir) if cache_dir is not None else out / EMBEDDING_CACHE_SUBDIR
    timings: dict[str, float] = {}

    report("reading files", 0, total)
    t0 = time.perf_counter()
    train_texts, train_labels = load_split(train, text_column, label_column, label_separator)
    test_texts, test_labels = load_split(test, text_column, label_column, label_separator)
    label_set, y_train, y_test = encode_splits(
        train_labels, test_labels, train_name=str(train), test_name=str(test)
    )
    names = list(label_set.names)
    multi = label_set.multi_label
    check_config(
        plan,
        classifier=classifier,
        embedder=embedder,
        initializer=initializer,
        initial=initial,
        batch_size=batch_size,
        iterations=iterations,
        seeds=seeds,
        multi_label=multi,
    )
    if initial >= len(train_texts):
        raise ConfigError(
            f"initial ({initial}) must be smaller than the training file ({len(train_texts)} rows)"
        )
    stop_rows = stopping_rows(train_texts, stopping_set_size) if stop_specs else None
    timings["load_seconds"] = time.perf_counter() - t0

    n_texts = len(train_texts) + len(test_texts)
    report(f"embedding {n_texts} texts ({embedder_name or 'none'})", 0, total)
    X_train, X_test, emb_info = embed_splits(train_texts, test_texts, embedder_name, cache)
    timings["embed_seconds"] = emb_info["seconds"]

    report("training on all labels", 0, total)
    t0 = time.perf_counter()
    try:
        full = full_data_scores(
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
                    stopping=stop_specs,
                    stopping_indices=stop_rows,
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
        "multi_label": multi,
        "stopping": ", ".join(stop_specs) or "none",
    }
    if stop_rows is not None:
        settings["stopping_set_size"] = len(stop_rows)
    from al_core.simulation import summarize

    metric = "micro_f1" if multi else "accuracy"
    summary = summarize(
        runs,
        dataset=dataset or dataset_name(train),
        classifier=classifier,
        embedder=embedder_name or "none",
        seeds=seed_list,
        full_data_accuracy=full["accuracy"],
        settings=settings,
        metric=metric,
        full_data_score=full[metric],
        target=target,
    )
    summary["embedding"] = {k: v for k, v in emb_info.items() if k != "seconds"}
    timings["total_seconds"] = time.perf_counter() - start
    summary["timings"] = {k: round(v, 4) for k, v in timings.items()}
    report("writing the report", total, total)
    write_report(summary, runs, out)
    return summary
