"""Experiment grid: datasets x classifiers x strategies x seeds, resumable, one combined table.

Every cell (one strategy under one seed on one dataset with one classifier) is a simulated
active-learning run (:func:`al_core.simulation.simulate`: gold labels answer, the test split
scores every round, the stopping criteria are checked at every point). Each finished cell is
written at once to ``OUT/cells/<dataset>/<classifier>/<strategy>/seed-<k>.json``, so a killed
grid continues where it stopped: cells already on disk are read, not recomputed. Adding a
dataset, classifier, strategy or seed later reuses every finished cell; changing a setting
that shapes a run (budget, stopping criteria, subsampling ...) is refused for the same OUT.

At the end (or with ``--combine-only``) the cells are combined into:

* ``OUT/reports/<dataset>__<classifier>/``: ``summary.json``, ``curve.csv``,
  ``learning_curve.png`` (stopping points marked) and ``report.md``, as ``alflow simulate``
  writes them;
* ``OUT/table.csv`` / ``OUT/table.json``: one row per dataset x classifier x strategy (AUC
  mean, std, min, max over seeds, final score, labels to target);
* ``OUT/stopping.csv``: one row per dataset x classifier x strategy x criterion (where it
  fired, score drop, labels saved, and whether it met the target: at most ``--max-drop`` below
  the final score while saving at least ``--min-saved`` of the labels);
* ``OUT/auc.png``: AUC per strategy and dataset, with the seed spread as error bars.

Example (the issue's grid; run it with ``nice``, it takes hours on 2 cores)::

    nice -n 10 .venv/bin/python benchmarks/grid.py --datasets trec6,agnews,mr,cr,sst2 \\
        --classifiers embedding-logreg --strategies breaking-ties,least-confidence \\
        --seeds 5 --initial 25 --batch-size 25 --iterations 20 \\
        --stopping "kappa-average,delta-f,classification-change,overall-uncertainty" \\
        --out benchmarks/results/grid

Datasets are folder names under ``--data-dir`` (default ``../shared/data`` beside the clone)
holding ``train.parquet`` and ``test.parquet``, or folder paths; ``NAME:COLUMN`` reads labels
from another column (``goemotions:labels`` for multi-label GoEmotions).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from al_core.storage.atomic import atomic_write_json, atomic_write_text  # noqa: E402
from al_core.storage.workspace import crashpoint  # noqa: E402

BASELINE = "random"
#: Settings that shape a cell's run: a grid folder keeps them fixed.
RUN_SETTINGS = (
    "initial",
    "batch_size",
    "iterations",
    "initializer",
    "embedder",
    "stopping",
    "stopping_set_size",
    "max_train",
    "max_test",
)


@dataclass(frozen=True)
class Cell:
    dataset: str
    classifier: str
    strategy: str
    seed: int

    def path(self, out: Path) -> Path:
        return (
            out
            / "cells"
            / self.dataset
            / self.classifier
            / self.strategy
            / f"seed-{self.seed}.json"
        )


def default_data_dir() -> Path:
    """``../shared/data`` beside the clone, or two levels up (a worktree under ``wt/``)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return REPO.parent / "shared" / "data"


def parse_list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def dataset_source(spec: str, data_dir: Path, label_column: str) -> tuple[str, Path, str]:
    """(name, folder, label column) of ``NAME[:COLUMN]`` or ``PATH[:COLUMN]``."""
    name, _, column = spec.partition(":")
    folder = Path(name) if Path(name).is_dir() else data_dir / name
    if not (folder / "train.parquet").is_file() or not (folder / "test.parquet").is_file():
        raise SystemExit(f"dataset {name!r}: no train.parquet and test.parquet in {folder}")
    return folder.name, folder, column or label_column


def subsample(items: list, n: int | None) -> np.ndarray:
    """Row indices: all, or ``n`` rows drawn once with seed 0 (the same on every resume)."""
    rows = np.arange(len(items))
    if n is None or n >= len(items):
        return rows
    return np.sort(np.random.default_rng(0).permutation(rows)[:n])


def load_dataset(folder: Path, label_column: str, settings: dict[str, Any]) -> dict[str, Any]:
    from al_core.simulation import encode_splits, load_labelled_split

    train_texts, train_labels = load_labelled_split(folder / "train.parquet", "text", label_column)
    test_texts, test_labels = load_labelled_split(folder / "test.parquet", "text", label_column)
    tr = subsample(train_texts, settings["max_train"])
    te = subsample(test_texts, settings["max_test"])
    train_texts, train_labels = [train_texts[i] for i in tr], [train_labels[i] for i in tr]
    test_texts, test_labels = [test_texts[i] for i in te], [test_labels[i] for i in te]
    known = {x for v in train_labels for x in ([v] if isinstance(v, str) else v)}
    keep = [
        i for i, v in enumerate(test_labels) if ({v} if isinstance(v, str) else set(v)) <= known
    ]
    dropped = len(test_labels) - len(keep)
    test_texts, test_labels = [test_texts[i] for i in keep], [test_labels[i] for i in keep]
    label_set, y_train, y_test = encode_splits(train_labels, test_labels)
    return {
        "train_texts": train_texts,
        "test_texts": test_texts,
        "label_set": label_set,
        "y_train": y_train,
        "y_test": y_test,
        "test_rows_dropped": dropped,
    }


class Grid:
    """One grid folder: its settings, its finished cells, and how to compute a missing one."""

    def __init__(self, out: Path, settings: dict[str, Any], cache_dir: Path) -> None:
        self.out = out
        self.settings = settings
        self.cache_dir = cache_dir  # embeddings (by content hash): shared between grids
        self._data: dict[str, Any] = {}

    def check_settings(self) -> None:
        path = self.out / "grid.json"
        mine = {k: self.settings[k] for k in RUN_SETTINGS}
        if path.exists():
            stored = json.loads(path.read_text())
            if stored != mine:
                diff = sorted(k for k in RUN_SETTINGS if stored.get(k) != mine.get(k))
                raise SystemExit(
                    f"{self.out} holds cells made with other settings ({', '.join(diff)}); "
                    "use another --out"
                )
        else:
            atomic_write_json(path, mine)

    def prepare(self, dataset: str, folder: Path, label_column: str, classifier: str) -> dict:
        """Data, features, full-data scores and stopping rows of one dataset x classifier."""
        from al_core import registry
        from al_core.simulation import score_on_full_data, split_features, stopping_rows

        key = f"{dataset}/{classifier}"
        if key in self._data:
            return self._data[key]
        # Cells come grouped by dataset and classifier: keep only the current group in memory.
        self._data = {k: v for k, v in self._data.items() if k == dataset}
        if dataset not in self._data:
            self._data = {dataset: load_dataset(folder, label_column, self.settings)}
        data = self._data[dataset]
        cls = registry.lookup("classifiers", classifier)
        embedder = None
        if cls.input_kind != "texts":
            embedder = registry.resolve_embedder_name(classifier, self.settings["embedder"])
        X_train, X_test, info = split_features(
            data["train_texts"], data["test_texts"], embedder, self.cache_dir
        )
        full_path = self.out / "cells" / dataset / classifier / "full-data.json"
        if full_path.exists():
            full = json.loads(full_path.read_text())
        else:
            full = score_on_full_data(
                X_train,
                data["y_train"],
                X_test,
                data["y_test"],
                classifier=classifier,
                num_classes=len(data["label_set"]),
            )
            atomic_write_json(full_path, full)
        rows = None
        if self.settings["stopping"]:
            rows = stopping_rows(data["train_texts"], self.settings["stopping_set_size"])
        prepared = {**data, "X_train": X_train, "X_test": X_test, "embedder": embedder or "none"}
        prepared |= {"full": full, "stopping_rows": rows, "embedding": info}
        self._data[key] = prepared
        return prepared

    def compute(self, cell: Cell, prepared: dict, on_round: Callable[[int], None]) -> dict:
        from al_core.device import single_thread_blas
        from al_core.registry import make_classifier, make_initializer, make_strategy
        from al_core.simulation import simulate

        multi = prepared["label_set"].multi_label
        n_classes = len(prepared["label_set"])

        def factory():
            return make_classifier(
                cell.classifier, num_classes=n_classes, multi_label=multi, seed=cell.seed
            )

        with single_thread_blas():
            run = simulate(
                prepared["X_train"],
                prepared["y_train"],
                prepared["X_test"],
                prepared["y_test"],
                classifier_factory=factory,
                strategy=make_strategy(cell.strategy),
                initializer=make_initializer(self.settings["initializer"]),
                initial=self.settings["initial"],
                batch_size=self.settings["batch_size"],
                iterations=self.settings["iterations"],
                seed=cell.seed,
                progress_callback=on_round,
                num_classes=n_classes,
                name=cell.strategy,
                stopping=self.settings["stopping"],
                stopping_indices=prepared["stopping_rows"],
            )
        record = {"cell": vars(cell), "run": run.to_dict(), "written_at": time.time()}
        atomic_write_json(cell.path(self.out), record)
        return record


def run_grid(args: argparse.Namespace) -> dict[str, Any]:
    """Compute every missing cell (with a progress bar), then combine; returns what it did."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from al_core.stopping import build_criteria

    settings = grid_settings(args)
    build_criteria(settings["stopping"], num_classes=2)  # fail fast on a malformed criterion
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    grid = Grid(out, settings, args.cache_dir)
    grid.check_settings()
    sources = [dataset_source(d, args.data_dir, args.label_column) for d in args.datasets]
    cells = [
        (Cell(name, clf, strategy, seed), folder, column)
        for name, folder, column in sources
        for clf in args.classifiers
        for strategy in args.strategies
        for seed in range(args.seeds)
    ]
    todo = [c for c in cells if not c[0].path(out).exists()]
    print(f"grid: {len(cells)} cells, {len(cells) - len(todo)} already done, {len(todo)} to run")
    per_cell = settings["iterations"]
    computed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rounds"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("grid", total=len(todo) * per_cell)
        for k, (cell, folder, column) in enumerate(todo):
            label = f"{cell.dataset} | {cell.classifier} | {cell.strategy} seed {cell.seed}"
            bar.update(task, description=label, completed=k * per_cell)
            prepared = grid.prepare(cell.dataset, folder, column, cell.classifier)
            base = k * per_cell
            grid.compute(cell, prepared, lambda i, b=base: bar.update(task, completed=b + i))
            computed += 1
            if bar.disable:  # no terminal: one line per cell instead of the bar
                print(f"  done {label} ({computed}/{len(todo)})", flush=True)
            crashpoint(f"grid-cell-{computed}")  # kill/resume tests stop the grid here
        bar.update(task, completed=len(todo) * per_cell)
    paths = combine(out, args, grid)
    return {"cells": len(cells), "computed": computed, "reused": len(cells) - computed, **paths}


def grid_settings(args: argparse.Namespace) -> dict[str, Any]:
    from al_core.stopping import split_specs

    return {
        "initial": args.initial,
        "batch_size": args.batch_size,
        "iterations": args.iterations,
        "initializer": args.initializer,
        "embedder": args.embedder,
        "stopping": split_specs(args.stopping or ""),
        "stopping_set_size": args.stopping_set_size,
        "max_train": args.max_train,
        "max_test": args.max_test,
    }


def combine(out: Path, args: argparse.Namespace, grid: Grid) -> dict[str, str]:
    """Per-pair reports, the combined table, the stopping table and the AUC plot."""
    from al_core.simulation import SimulationRun, summarize, write_outputs

    sources = [dataset_source(d, args.data_dir, args.label_column) for d in args.datasets]
    table, stop_rows, summaries = [], [], []
    for name, folder, column in sources:
        for clf in args.classifiers:
            runs = []
            for strategy in args.strategies:
                for seed in range(args.seeds):
                    path = Cell(name, clf, strategy, seed).path(out)
                    if path.exists():
                        runs.append(SimulationRun.from_dict(json.loads(path.read_text())["run"]))
            if not runs:
                continue
            prepared = grid.prepare(name, folder, column, clf)
            metric = "micro_f1" if prepared["label_set"].multi_label else "accuracy"
            summary = summarize(
                runs,
                dataset=name,
                classifier=clf,
                embedder=prepared["embedder"],
                seeds=list(range(args.seeds)),
                full_data_accuracy=prepared["full"]["accuracy"],
                settings={
                    **{k: grid.settings[k] for k in RUN_SETTINGS},
                    "train_size": len(prepared["train_texts"]),
                    "test_size": len(prepared["test_texts"]),
                    "test_rows_dropped": prepared["test_rows_dropped"],
                },
                metric=metric,
                full_data_score=prepared["full"][metric],
                target=args.target,
            )
            write_outputs(summary, runs, out / "reports" / f"{name}__{clf}")
            summaries.append(summary)
            for e in summary["results"]:
                table.append(table_row(summary, e))
                for criterion, st in e["stopped_at"].items():
                    stop_rows.append(stopping_row(summary, e, criterion, st, args))
    atomic_write_json(out / "table.json", {"rows": table, "stopping": stop_rows})
    atomic_write_text(out / "table.csv", to_csv(table))
    atomic_write_text(out / "stopping.csv", to_csv(stop_rows))
    paths = {"table": str(out / "table.csv"), "stopping": str(out / "stopping.csv")}
    if summaries:
        from al_core.storage.atomic import atomic_write_bytes

        atomic_write_bytes(out / "auc.png", auc_plot(summaries))
        paths["plot"] = str(out / "auc.png")
    return paths


def table_row(summary: dict, e: dict) -> dict[str, Any]:
    spread = e["auc_spread"]
    target = e["labels_to_target"] or {}
    return {
        "dataset": summary["dataset"],
        "classifier": summary["classifier"],
        "strategy": e["strategy"],
        "metric": summary["metric"],
        "seeds": spread["n"],
        "auc": round(e["auc"], 4),
        "auc_std": None if spread["std"] is None else round(spread["std"], 4),
        "auc_min": round(spread["min"], 4),
        "auc_max": round(spread["max"], 4),
        "final_score": round(e["final_score"], 4),
        "final_labels": e["labels"][-1],
        "full_data_score": summary["full_data_score"],
        "target": None if summary["target"] is None else round(summary["target"]["value"], 4),
        "labels_to_target": target.get("mean"),
        "target_reached": target.get("reached"),
    }


def stopping_row(summary: dict, e: dict, criterion: str, st: dict, args) -> dict[str, Any]:
    fired_everywhere = st["fired"] == st["seeds"]
    return {
        "dataset": summary["dataset"],
        "classifier": summary["classifier"],
        "strategy": e["strategy"],
        "criterion": criterion,
        "not_applicable": st["not_applicable"],
        "fired": st["fired"],
        "seeds": st["seeds"],
        "iteration": st["iteration"],
        "labels": st["labels"],
        "score": None if st["score"] is None else round(st["score"], 4),
        "score_drop": round(st["score_drop"], 4),
        "labels_saved": round(st["labels_saved"], 4),
        "meets_target": bool(
            fired_everywhere
            and st["score_drop"] <= args.max_drop
            and st["labels_saved"] >= args.min_saved
        ),
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def auc_plot(summaries: list[dict]) -> bytes:
    """Grouped bars: AUC per strategy for each dataset x classifier, seed std as error bars."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = [f"{s['dataset']}\n{s['classifier']}" for s in summaries]
    strategies: list[str] = []
    for s in summaries:
        strategies += [e["strategy"] for e in s["results"] if e["strategy"] not in strategies]
    fig = Figure(figsize=(max(6, 1.6 * len(groups) * max(1, len(strategies)) / 2), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(strategies))
    for k, name in enumerate(strategies):
        xs, ys, errs = [], [], []
        for g, s in enumerate(summaries):
            e = next((e for e in s["results"] if e["strategy"] == name), None)
            if e is not None:
                xs.append(g + (k - (len(strategies) - 1) / 2) * width)
                ys.append(e["auc"])
                errs.append(e["auc_spread"]["std"] or 0.0)
        ax.bar(xs, ys, width=width, yerr=errs, capsize=3, label=name)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel("AUC (mean curve; error bar: seed std)")
    lows = [e["auc_spread"]["min"] for s in summaries for e in s["results"]]
    ax.set_ylim(max(0.0, min(lows) - 0.05), 1.0)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=parse_list, default=parse_list("trec6"))
    p.add_argument("--classifiers", type=parse_list, default=parse_list("embedding-logreg"))
    p.add_argument("--strategies", type=parse_list, default=parse_list("breaking-ties"))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--initial", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=25)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--initializer", default="random")
    p.add_argument("--embedder", default=None, help="for every classifier that needs one")
    p.add_argument("--stopping", default="", help="criteria as text, comma-separated")
    p.add_argument("--stopping-set-size", type=int, default=1000)
    p.add_argument("--target", type=float, default=None, help="default: 95%% of full data")
    p.add_argument("--max-drop", type=float, default=0.02, help="stopping target: score drop")
    p.add_argument("--min-saved", type=float, default=1 / 3, help="stopping target: labels")
    p.add_argument("--max-train", type=int, default=None, help="subsample the training split")
    p.add_argument("--max-test", type=int, default=None, help="subsample the test split")
    p.add_argument("--label-column", default="label")
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "grid")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=REPO / ".alflow" / "embeddings",
        help="embedding cache, kept out of the results (default .alflow/embeddings)",
    )
    p.add_argument("--no-baseline", action="store_true", help="do not add random")
    p.add_argument("--combine-only", action="store_true", help="only rebuild the tables")
    args = p.parse_args(argv)
    if not args.no_baseline and BASELINE not in args.strategies:
        args.strategies.append(BASELINE)
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.combine_only:
        stored = args.out / "grid.json"
        if not stored.exists():
            raise SystemExit(f"{args.out} is not a grid folder (no grid.json)")
        grid = Grid(args.out, json.loads(stored.read_text()), args.cache_dir)
        result = {"computed": 0, **combine(args.out, args, grid)}
    else:
        result = run_grid(args)
    result["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps({"grid": str(args.out), **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
