"""Write the benchmark outputs of simulation runs and read them in words.

:func:`write_outputs` writes the :func:`~al_core.simulation.summary.summarize` object as
``summary.json`` with ``curve.csv`` (every run, every point), ``learning_curve.png`` (stopping
points marked) and ``report.md``; :func:`format_table` is the short version for a terminal.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.simulation.loop import SimulationRun
from al_core.simulation.summary import run_curve
from al_core.storage.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text

CURVE_COLUMNS = ("strategy", "seed", "iteration", "labels", "accuracy", "macro_f1", "micro_f1")
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "micro_f1": "micro-F1"}
#: Marker of the n-th stopping criterion in the plot.
STOP_MARKERS = ("v", "s", "D", "^", "P", "X", "*", "h")
RANDOM_BASELINE = "random"


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
        micro = run_curve(run, "micro_f1")
        points = zip(run.labels, run.accuracy, run.macro_f1, micro, strict=True)
        for i, (n, acc, f1, mf1) in enumerate(points):
            writer.writerow(
                [run.strategy, run.seed, i, n, repr(float(acc)), repr(float(f1)), repr(float(mf1))]
            )
    return buf.getvalue()


def plot_png(summary: dict[str, Any]) -> bytes:
    """The learning curves (mean and +-std band per strategy) as PNG bytes.

    Where a stopping criterion fired, a marker (one shape per criterion, the strategy's
    colour) sits at the mean labels and score of the seeds where it fired.
    """
    # Imported here so that importing the report module (e.g. from a flow) stays cheap, and
    # used through Figure/FigureCanvasAgg so no global pyplot backend state is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    metric = summary.get("metric", "accuracy")
    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    criteria = _criteria(summary)
    drawn: set[str] = set()
    for entry in summary["results"]:
        x = np.asarray(entry["labels"], dtype=np.float64)
        mean = np.asarray(entry[metric], dtype=np.float64)
        std = np.asarray(entry[f"{metric}_std"], dtype=np.float64)
        (line,) = ax.plot(x, mean, marker="o", markersize=3, label=entry["strategy"])
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        for k, name in enumerate(criteria):
            stop = (entry.get("stopped_at") or {}).get(name)
            if stop and stop["labels"] is not None:
                drawn.add(name)
                ax.plot(
                    stop["labels"],
                    stop["score"],
                    marker=STOP_MARKERS[k % len(STOP_MARKERS)],
                    markersize=9,
                    color=line.get_color(),
                    markeredgecolor="black",
                    linestyle="none",
                )
    full = summary.get("full_data_score", summary.get("full_data_accuracy"))
    if full is not None:
        ax.axhline(full, color="black", linestyle="--", linewidth=1, label="full data")
    handles, _ = ax.get_legend_handles_labels()
    for k, name in enumerate(criteria):
        if name not in drawn:
            continue
        marker = STOP_MARKERS[k % len(STOP_MARKERS)]
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                color="grey",
                markeredgecolor="black",
                linestyle="none",
                markersize=8,
                label=f"stop: {name}",
            )
        )
    ax.set_xlabel("labelled examples")
    ax.set_ylabel(f"test {METRIC_NAMES[metric]}")
    ax.set_title(
        f"{summary['dataset']} - {summary['classifier']} on {summary['embedder']}", fontsize=11
    )
    ax.grid(True, alpha=0.3)
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def report_markdown(summary: dict[str, Any], *, image: str = "learning_curve.png") -> str:
    """The human-readable report: settings, results, stopping points, plot, and a reading."""
    metric = summary.get("metric", "accuracy")
    mname = METRIC_NAMES[metric]
    lines = [
        f"# Active-learning benchmark: {summary['dataset']}",
        "",
        f"- Classifier: `{summary['classifier']}`",
        f"- Embedder: `{summary['embedder']}`",
        f"- Seeds: {', '.join(str(s) for s in summary['seeds'])}",
        f"- Curve metric: {mname}",
    ]
    for key, value in summary.get("settings", {}).items():
        lines.append(f"- {key}: {value}")
    target = summary.get("target")
    lines += ["", "## Results", ""]
    lines += [
        f"| Strategy | AUC | AUC per seed | Final {mname} | Final macro-F1 | Labels to target "
        "| Query s | Train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in summary["results"]:
        lines.append(
            f"| {e['strategy']} | {e['auc']:.4f} | {_spread_text(e.get('auc_spread'))} | "
            f"{_pm(e[metric], e[f'{metric}_std'])} | {_pm(e['macro_f1'], e['macro_f1_std'])} | "
            f"{_target_text(e.get('labels_to_target'))} | {e['query_seconds']:.2f} | "
            f"{e['train_seconds']:.2f} |"
        )
    lines += [
        "",
        f"AUC is the area under the mean {mname}-vs-labels curve divided by the label range "
        "(the curve's average height); AUC per seed is mean +- sample std [min, max] over "
        "seeds. Final values are means over seeds +- std; times are mean seconds per run.",
    ]
    if target:
        lines.append(
            f"Labels to target: labels a seed needed to reach {mname} {target['value']:.4f} "
            f"({target['rule']}), mean over the seeds that reached it (k/n seeds)."
        )
    lines += ["", f"![Learning curve]({image})", ""]
    full = summary.get("full_data_score", summary.get("full_data_accuracy"))
    if full is not None:
        lines.append(f"Full-data {mname} (same classifier on all training labels): {full:.4f}.")
    else:
        lines.append(f"Full-data {mname}: not computed.")
    stop_lines = stopping_markdown(summary)
    if stop_lines:
        lines += ["", "## Stopping", "", *stop_lines]
    lines += ["", "## Reading", "", interpret(summary)]
    notes = summary.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def stopping_markdown(summary: dict[str, Any]) -> list[str]:
    """The stopping table: where each criterion first fired, and what stopping there cost."""
    criteria = _criteria(summary)
    if not criteria:
        return []
    mname = METRIC_NAMES[summary.get("metric", "accuracy")]
    lines = [
        f"| Strategy | Criterion | Fired | Iteration | Labels | {mname} at stop | Drop vs final "
        "| Labels saved |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in summary["results"]:
        for name in criteria:
            st = (e.get("stopped_at") or {}).get(name)
            if st is None:
                continue
            if st["not_applicable"]:
                lines.append(
                    f"| {e['strategy']} | {name} | not applicable: {st['not_applicable']} "
                    "| | | | | |"
                )
                continue
            fired = f"{st['fired']}/{st['seeds']}"
            if st["fired"] == 0:
                lines.append(f"| {e['strategy']} | {name} | {fired} | never | | | 0 | 0% |")
                continue
            lines.append(
                f"| {e['strategy']} | {name} | {fired} | {st['iteration']:.1f} | "
                f"{st['labels']:.0f} | {st['score']:.4f} | {st['score_drop']:+.4f} | "
                f"{100 * st['labels_saved']:.0f}% |"
            )
    lines += [
        "",
        "Iteration, labels and score are means over the seeds where the criterion fired "
        "(iteration 0 is the first model). Drop and labels saved are means over all seeds; a "
        "seed where the criterion never fired counts as stopping at the end. The runs always "
        "continue to the full budget, so the final score is known.",
    ]
    if any(n.startswith("eval-plateau") for n in criteria):
        lines.append(
            "eval-plateau reads the test set here, so its stop point is optimistic: a real "
            "team would have to label an evaluation set for it."
        )
    return lines


def interpret(summary: dict[str, Any]) -> str:
    """One paragraph, generated from the numbers, comparing every strategy with random.

    Two strategies are called "within noise" when their AUCs differ by no more than the
    larger of their per-seed AUC standard deviations; with one seed nothing can be told
    apart from noise.
    """
    results = summary["results"]
    if not results:
        return "No strategy produced results."
    baseline = _find_baseline(results)
    ranked = sorted(results, key=lambda e: e["auc"], reverse=True)
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
                + _noise_clause(e, baseline, diff)
                + "."
            )
        best = ranked[0]
        if best is baseline:
            parts.append("No strategy beat random on AUC.")
        else:
            parts.append(f"The best strategy by AUC is {best['strategy']}.")
    if len(summary.get("seeds", [])) > 1:
        parts.append(
            "Two strategies are within noise when their AUCs differ by no more than the larger "
            "of their per-seed AUC standard deviations."
        )
    else:
        parts.append("With one seed there is no spread: no difference can be told from noise.")
    full = summary.get("full_data_score", summary.get("full_data_accuracy"))
    if full:
        mname = METRIC_NAMES[summary.get("metric", "accuracy")]
        top = max(results, key=lambda e: e.get("final_score", e["final_accuracy"]))
        final = top.get("final_score", top["final_accuracy"])
        parts.append(
            f"The highest final {mname}, {final:.4f} ({top['strategy']} with "
            f"{top['labels'][-1]} labels), is {100 * final / full:.1f}% of the "
            f"full-data {mname} {full:.4f}."
        )
    return " ".join(parts)


def format_table(summary: dict[str, Any]) -> str:
    """A plain-text results table (one row per strategy) for the end of a CLI run."""
    metric = summary.get("metric", "accuracy")
    short = {"accuracy": "acc", "macro_f1": "mF1", "micro_f1": "uF1"}[metric]
    header = (
        "strategy",
        "AUC",
        "+-seed",
        f"final {short}",
        "final F1",
        "labels",
        "query s",
        "train s",
        "wall s",
    )
    rows = []
    for e in summary["results"]:
        sd = (e.get("auc_spread") or {}).get("std")
        rows.append(
            (
                e["strategy"],
                f"{e['auc']:.4f}",
                "-" if sd is None else f"{sd:.4f}",
                f"{e.get('final_score', e['final_accuracy']):.4f}",
                f"{e['macro_f1'][-1]:.4f}",
                str(e["labels"][-1]),
                f"{e['query_seconds']:.2f}",
                f"{e['train_seconds']:.2f}",
                f"{e['wall_seconds']:.2f}",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    title = f"{summary['dataset']} | {summary['classifier']} | {summary['embedder']}"
    lines = [title, fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]
    full = summary.get("full_data_score", summary.get("full_data_accuracy"))
    if full is not None:
        lines.append(f"full-data {METRIC_NAMES[metric]}: {full:.4f}")
    for e in summary["results"]:
        for name, st in (e.get("stopped_at") or {}).items():
            lines.append(f"stop {name} / {e['strategy']}: {_stop_text(st)}")
    lines += [f"note: {n}" for n in summary.get("notes") or []]
    return "\n".join(lines)


def _criteria(summary: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for e in summary["results"]:
        names += [n for n in (e.get("stopped_at") or {}) if n not in names]
    return names


def _stop_text(st: dict[str, Any]) -> str:
    if st["not_applicable"]:
        return f"not applicable ({st['not_applicable']})"
    if st["fired"] == 0:
        return f"never fired in {st['seeds']} seeds"
    return (
        f"fired in {st['fired']}/{st['seeds']} seeds, at {st['labels']:.0f} labels "
        f"(score {st['score']:.4f}, {st['score_drop']:+.4f} below final, "
        f"{100 * st['labels_saved']:.0f}% of labels saved)"
    )


def _noise_clause(e: dict[str, Any], baseline: dict[str, Any], diff: float) -> str:
    spreads = [x.get("auc_spread") or {} for x in (e, baseline)]
    sds = [s.get("std") for s in spreads]
    if any(sd is None for sd in sds):
        return ""
    pairs = {p["seed"]: p["auc"] for p in baseline.get("auc_seeds", [])}
    mine = [(p["auc"], pairs[p["seed"]]) for p in e.get("auc_seeds", []) if p["seed"] in pairs]
    wins = sum(a > b for a, b in mine)
    clause = f"; better in {wins} of {len(mine)} seeds" if mine else ""
    noise = max(sds)
    if abs(diff) <= noise:
        clause += f", within noise (per-seed AUC std up to {noise:.4f})"
    else:
        clause += f", beyond noise (per-seed AUC std up to {noise:.4f})"
    return clause


def _spread_text(s: dict[str, Any] | None) -> str:
    if not s:
        return "-"
    if s["std"] is None:
        return f"{s['mean']:.4f} (1 seed)"
    return f"{s['mean']:.4f} +- {s['std']:.4f} [{s['min']:.4f}, {s['max']:.4f}]"


def _target_text(t: dict[str, Any] | None) -> str:
    if not t:
        return "-"
    n = len(t["per_seed"])
    if t["mean"] is None:
        return f"not reached (0/{n})"
    return f"{t['mean']:.0f} ({t['reached']}/{n})"


def _find_baseline(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    for e in results:
        if e["strategy"].lower() == RANDOM_BASELINE:
            return e
    for e in results:
        if e["strategy"].lower().startswith(RANDOM_BASELINE):
            return e
    return None


def _pm(values: list[float], stds: list[float]) -> str:
    mean, std = values[-1], stds[-1]
    return f"{mean:.4f}" if math.isclose(std, 0.0) else f"{mean:.4f} +- {std:.4f}"
