"""Aggregate simulation runs over seeds and write the benchmark outputs.

:func:`summarize` turns runs into the ``summary.json`` object (one entry per strategy, curves
averaged over seeds); :func:`write_outputs` writes that object with ``curve.csv`` (every run,
every point), ``learning_curve.png`` and ``report.md``; :func:`format_table` is the short
version for a terminal.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.metrics import normalized_auc
from al_core.simulation.loop import SimulationRun
from al_core.storage.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text

CURVE_COLUMNS = ("strategy", "seed", "iteration", "labels", "accuracy", "macro_f1")
RANDOM_BASELINE = "random"


def summarize(
    runs: Sequence[SimulationRun],
    *,
    dataset: str,
    classifier: str,
    embedder: str,
    seeds: Sequence[int],
    full_data_accuracy: float | None,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The ``summary.json`` object: run metadata plus per-strategy curves averaged over seeds.

    Strategies appear in the order first seen in ``runs``. When a strategy's seeds produced
    curves of different lengths (the pool ran out), all are cut to the shortest and a line
    is added to ``notes``.
    """
    if not runs:
        raise ValueError("summarize() needs at least one run")
    groups: dict[str, list[SimulationRun]] = {}
    for run in runs:
        groups.setdefault(run.strategy, []).append(run)

    notes: list[str] = []
    results = []
    for name, group in groups.items():
        lengths = [len(r.accuracy) for r in group]
        for r in group:
            if not (len(r.labels) == len(r.accuracy) == len(r.macro_f1)):
                raise ValueError(f"run {name!r} seed {r.seed}: curve lists differ in length")
        n_points = min(lengths)
        if n_points == 0:
            notes.append(f"{name}: a run has no points; strategy left out")
            continue
        if len(set(lengths)) > 1:
            notes.append(
                f"{name}: seeds produced {min(lengths)}-{max(lengths)} points (pool exhausted); "
                f"curves truncated to the shortest ({n_points} points)"
            )
        run_seeds = sorted(r.seed for r in group)
        if sorted(int(s) for s in seeds) != run_seeds:
            notes.append(f"{name}: runs exist for seeds {run_seeds}, not for all of {list(seeds)}")
        labels = np.array([r.labels[:n_points] for r in group], dtype=np.float64)
        acc = np.array([r.accuracy[:n_points] for r in group], dtype=np.float64)
        f1 = np.array([r.macro_f1[:n_points] for r in group], dtype=np.float64)
        if np.any(labels != labels[0]):
            notes.append(f"{name}: label counts differ between seeds; the mean count is reported")
        mean_labels = [int(round(v)) for v in labels.mean(axis=0)]
        mean_acc = acc.mean(axis=0)
        results.append(
            {
                "strategy": name,
                "labels": mean_labels,
                "accuracy": _floats(mean_acc),
                "macro_f1": _floats(f1.mean(axis=0)),
                "accuracy_std": _floats(acc.std(axis=0, ddof=0)),
                "macro_f1_std": _floats(f1.std(axis=0, ddof=0)),
                "auc": normalized_auc(mean_labels, mean_acc),
                "final_accuracy": float(mean_acc[-1]),
                "query_seconds": float(np.mean([r.query_seconds for r in group])),
                "train_seconds": float(np.mean([r.train_seconds for r in group])),
                "wall_seconds": float(np.mean([r.wall_seconds for r in group])),
            }
        )
    return {
        "dataset": dataset,
        "classifier": classifier,
        "embedder": embedder,
        "seeds": [int(s) for s in seeds],
        "full_data_accuracy": None if full_data_accuracy is None else float(full_data_accuracy),
        "settings": dict(settings),
        "results": results,
        "notes": notes,
    }


def write_outputs(
    summary: dict[str, Any], runs: Sequence[SimulationRun], out_dir: str | Path
) -> dict[str, Path]:
    """Write ``summary.json``, ``curve.csv``, ``learning_curve.png`` and ``report.md``.

    Every file is written atomically. Returns their paths under the keys ``summary``,
    ``curve``, ``plot`` and ``report``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.json",
        "curve": out / "curve.csv",
        "plot": out / "learning_curve.png",
        "report": out / "report.md",
    }
    atomic_write_json(paths["summary"], summary)
    atomic_write_text(paths["curve"], curve_csv(runs))
    atomic_write_bytes(paths["plot"], plot_png(summary))
    atomic_write_text(paths["report"], report_markdown(summary, image=paths["plot"].name))
    return paths


def curve_csv(runs: Sequence[SimulationRun]) -> str:
    """Every point of every run as CSV; iteration 0 is the point after initialization."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for run in runs:
        for i, (n, acc, f1) in enumerate(zip(run.labels, run.accuracy, run.macro_f1, strict=True)):
            writer.writerow([run.strategy, run.seed, i, n, repr(float(acc)), repr(float(f1))])
    return buf.getvalue()


def plot_png(summary: dict[str, Any]) -> bytes:
    """The learning curves (mean and +-std band per strategy) as PNG bytes."""
    # Imported here so that importing the report module (e.g. from a flow) stays cheap, and
    # used through Figure/FigureCanvasAgg so no global pyplot backend state is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for entry in summary["results"]:
        x = np.asarray(entry["labels"], dtype=np.float64)
        mean = np.asarray(entry["accuracy"], dtype=np.float64)
        std = np.asarray(entry["accuracy_std"], dtype=np.float64)
        (line,) = ax.plot(x, mean, marker="o", markersize=3, label=entry["strategy"])
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    full = summary.get("full_data_accuracy")
    if full is not None:
        ax.axhline(full, color="black", linestyle="--", linewidth=1, label="full data")
    ax.set_xlabel("labelled examples")
    ax.set_ylabel("test accuracy")
    ax.set_title(
        f"{summary['dataset']} - {summary['classifier']} on {summary['embedder']}", fontsize=11
    )
    ax.grid(True, alpha=0.3)
    if summary["results"] or full is not None:
        ax.legend(loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def report_markdown(summary: dict[str, Any], *, image: str = "learning_curve.png") -> str:
    """The human-readable report: settings, results table, plot, and a reading of the table."""
    lines = [
        f"# Active-learning benchmark: {summary['dataset']}",
        "",
        f"- Classifier: `{summary['classifier']}`",
        f"- Embedder: `{summary['embedder']}`",
        f"- Seeds: {', '.join(str(s) for s in summary['seeds'])}",
    ]
    for key, value in summary.get("settings", {}).items():
        lines.append(f"- {key}: {value}")
    lines += ["", "## Results", ""]
    lines += [
        "| Strategy | AUC | Final accuracy | Final macro-F1 | Query s | Train s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for e in summary["results"]:
        lines.append(
            f"| {e['strategy']} | {e['auc']:.4f} | {_pm(e['accuracy'], e['accuracy_std'])} | "
            f"{_pm(e['macro_f1'], e['macro_f1_std'])} | {e['query_seconds']:.2f} | "
            f"{e['train_seconds']:.2f} |"
        )
    lines += [
        "",
        "AUC is the area under the mean accuracy-vs-labels curve divided by the label range "
        "(the curve's average height). Final values are means over seeds +- std; times are "
        "mean seconds per run.",
        "",
        f"![Learning curve]({image})",
        "",
    ]
    full = summary.get("full_data_accuracy")
    if full is not None:
        lines.append(f"Full-data accuracy (same classifier on all training labels): {full:.4f}.")
    else:
        lines.append("Full-data accuracy: not computed.")
    lines += ["", "## Reading", "", interpret(summary)]
    notes = summary.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def interpret(summary: dict[str, Any]) -> str:
    """One paragraph, generated from the numbers, comparing every strategy with random."""
    results = summary["results"]
    if not results:
        return "No strategy produced results."
    baseline = _find_baseline(results)
    ranked = sorted(results, key=lambda e: e["auc"], reverse=True)
    noise = float(np.mean([np.mean(e["accuracy_std"]) for e in results]))
    parts: list[str] = []
    if baseline is None:
        parts.append(
            "No random baseline was run, so gains cannot be measured against it. By AUC: "
            + ", ".join(f"{e['strategy']} {e['auc']:.4f}" for e in ranked)
            + "."
        )
    else:
        base_auc = baseline["auc"]
        parts.append(f"The random baseline reaches an AUC of {base_auc:.4f}.")
        others = [e for e in ranked if e is not baseline]
        if not others:
            parts.append("No other strategy was run.")
        for e in others:
            diff = e["auc"] - base_auc
            rel = f" ({100 * diff / base_auc:+.1f}%)" if base_auc > 0 else ""
            verdict = "above" if diff > 0 else "below" if diff < 0 else "equal to"
            parts.append(
                f"{e['strategy']} scores {e['auc']:.4f}, {abs(diff):.4f}{rel} {verdict} random"
                + (" (within seed noise)" if abs(diff) <= noise else "")
                + "."
            )
        best = ranked[0]
        if best is baseline:
            parts.append("No strategy beat random on AUC.")
        else:
            parts.append(f"The best strategy by AUC is {best['strategy']}.")
    if len(summary.get("seeds", [])) > 1:
        parts.append(
            f"The mean seed-to-seed standard deviation of accuracy is {noise:.4f}; differences "
            "smaller than that are not reliable."
        )
    full = summary.get("full_data_accuracy")
    if full:
        top = max(results, key=lambda e: e["final_accuracy"])
        parts.append(
            f"The highest final accuracy, {top['final_accuracy']:.4f} ({top['strategy']} with "
            f"{top['labels'][-1]} labels), is {100 * top['final_accuracy'] / full:.1f}% of the "
            f"full-data accuracy {full:.4f}."
        )
    return " ".join(parts)


def format_table(summary: dict[str, Any]) -> str:
    """A plain-text results table (one row per strategy) for the end of a CLI run."""
    header = ("strategy", "AUC", "final acc", "final F1", "labels", "query s", "train s", "wall s")
    rows = [
        (
            e["strategy"],
            f"{e['auc']:.4f}",
            f"{e['final_accuracy']:.4f}",
            f"{e['macro_f1'][-1]:.4f}",
            str(e["labels"][-1]),
            f"{e['query_seconds']:.2f}",
            f"{e['train_seconds']:.2f}",
            f"{e['wall_seconds']:.2f}",
        )
        for e in summary["results"]
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    title = f"{summary['dataset']} | {summary['classifier']} | {summary['embedder']}"
    lines = [title, fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]
    full = summary.get("full_data_accuracy")
    if full is not None:
        lines.append(f"full-data accuracy: {full:.4f}")
    lines += [f"note: {n}" for n in summary.get("notes") or []]
    return "\n".join(lines)


def _find_baseline(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    for e in results:
        if e["strategy"].lower() == RANDOM_BASELINE:
            return e
    for e in results:
        if e["strategy"].lower().startswith(RANDOM_BASELINE):
            return e
    return None


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in values]


def _pm(values: list[float], stds: list[float]) -> str:
    mean, std = values[-1], stds[-1]
    return f"{mean:.4f}" if math.isclose(std, 0.0) else f"{mean:.4f} +- {std:.4f}"
