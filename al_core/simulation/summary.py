"""Aggregate simulation runs over seeds into the ``summary.json`` object.

One entry per strategy: curves averaged over seeds (with their spread), the AUC of the mean
curve and of every seed (mean, std, min-max), the labels each seed needed to reach a target
score, and ``stopped_at``: where each stopping criterion first said stop.

``metric`` names the curve that AUC, targets and stopping points are read on: ``accuracy``
for single-label data, ``micro_f1`` for multi-label data (subset accuracy is too harsh a
yardstick with dozens of labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from al_core.metrics import labels_to_target, normalized_auc, spread
from al_core.simulation.loop import SimulationRun

METRICS = ("accuracy", "macro_f1", "micro_f1")
#: Without an explicit target, the target is this fraction of the full-data score.
TARGET_FRACTION = 0.95


def run_curve(run: SimulationRun, metric: str) -> list[float]:
    """The run's values of ``metric`` (single-label runs may omit micro-F1: it is accuracy)."""
    if metric == "micro_f1" and not run.micro_f1:
        return run.accuracy
    return getattr(run, metric)


def summarize(
    runs: Sequence[SimulationRun],
    *,
    dataset: str,
    classifier: str,
    embedder: str,
    seeds: Sequence[int],
    full_data_accuracy: float | None,
    settings: dict[str, Any],
    metric: str = "accuracy",
    full_data_score: float | None = None,
    target: float | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` object: run metadata plus one entry per strategy.

    Strategies appear in the order first seen in ``runs``. When a strategy's seeds produced
    curves of different lengths (the pool ran out), all are cut to the shortest and a line is
    added to ``notes``. ``full_data_score`` is the full-data value of ``metric`` (default: the
    full-data accuracy when ``metric`` is accuracy). ``target`` is the score the labels-to-
    target figures refer to; without one it is 95% of the full-data score, when known.
    """
    if not runs:
        raise ValueError("summarize() needs at least one run")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if full_data_score is None and metric == "accuracy":
        full_data_score = full_data_accuracy
    target_info = None
    if target is not None:
        target_info = {"value": float(target), "rule": "given"}
    elif full_data_score is not None:
        target_info = {
            "value": float(TARGET_FRACTION * full_data_score),
            "rule": f"{TARGET_FRACTION:.0%} of the full-data {metric}",
        }
    groups: dict[str, list[SimulationRun]] = {}
    for run in runs:
        groups.setdefault(run.strategy, []).append(run)

    notes: list[str] = []
    results = []
    for name, group in groups.items():
        group = sorted(group, key=lambda r: r.seed)
        entry = _strategy_entry(name, group, seeds, metric, target_info, notes)
        if entry is not None:
            results.append(entry)
    return {
        "dataset": dataset,
        "classifier": classifier,
        "embedder": embedder,
        "seeds": [int(s) for s in seeds],
        "metric": metric,
        "full_data_accuracy": None if full_data_accuracy is None else float(full_data_accuracy),
        "full_data_score": None if full_data_score is None else float(full_data_score),
        "target": target_info,
        "settings": dict(settings),
        "results": results,
        "notes": notes,
    }


def _strategy_entry(
    name: str,
    group: list[SimulationRun],
    seeds: Sequence[int],
    metric: str,
    target: dict[str, Any] | None,
    notes: list[str],
) -> dict[str, Any] | None:
    lengths = [len(r.accuracy) for r in group]
    for r in group:
        lists = [r.labels, r.accuracy, r.macro_f1, run_curve(r, "micro_f1")]
        if len({len(v) for v in lists}) != 1:
            raise ValueError(f"run {name!r} seed {r.seed}: curve lists differ in length")
    n_points = min(lengths)
    if n_points == 0:
        notes.append(f"{name}: a run has no points; strategy left out")
        return None
    if len(set(lengths)) > 1:
        notes.append(
            f"{name}: seeds produced {min(lengths)}-{max(lengths)} points (pool exhausted); "
            f"curves truncated to the shortest ({n_points} points)"
        )
    run_seeds = [r.seed for r in group]
    if sorted(int(s) for s in seeds) != run_seeds:
        notes.append(f"{name}: runs exist for seeds {run_seeds}, not for all of {list(seeds)}")
    labels = np.array([r.labels[:n_points] for r in group], dtype=np.float64)
    if np.any(labels != labels[0]):
        notes.append(f"{name}: label counts differ between seeds; the mean count is reported")
    curves = {
        m: np.array([run_curve(r, m)[:n_points] for r in group], dtype=np.float64) for m in METRICS
    }
    mean_labels = [int(round(v)) for v in labels.mean(axis=0)]
    main = curves[metric]
    seed_aucs = [normalized_auc(labels[i], main[i]) for i in range(len(group))]
    entry: dict[str, Any] = {"strategy": name, "labels": mean_labels}
    for m in METRICS:
        entry[m] = _floats(curves[m].mean(axis=0))
    for m in METRICS:
        entry[f"{m}_std"] = _floats(curves[m].std(axis=0, ddof=0))
    entry |= {
        "auc": normalized_auc(mean_labels, main.mean(axis=0)),
        "auc_seeds": [{"seed": s, "auc": a} for s, a in zip(run_seeds, seed_aucs, strict=True)],
        "auc_spread": spread(seed_aucs),
        "final_accuracy": float(curves["accuracy"].mean(axis=0)[-1]),
        "final_score": float(main.mean(axis=0)[-1]),
        "labels_to_target": None,
        "stopped_at": stopped_at(group, metric),
        "query_seconds": float(np.mean([r.query_seconds for r in group])),
        "train_seconds": float(np.mean([r.train_seconds for r in group])),
        "wall_seconds": float(np.mean([r.wall_seconds for r in group])),
    }
    if target is not None:
        per_seed = [
            labels_to_target(r.labels, run_curve(r, metric), target["value"]) for r in group
        ]
        reached = [v for v in per_seed if v is not None]
        entry["labels_to_target"] = {
            "per_seed": [None if v is None else int(v) for v in per_seed],
            "reached": len(reached),
            "mean": float(np.mean(reached)) if reached else None,
        }
    return entry


def stopped_at(group: Sequence[SimulationRun], metric: str = "accuracy") -> dict[str, Any]:
    """Per criterion: where it first said stop in each seed, and what that cost.

    ``iteration``, ``labels``, ``accuracy`` and ``score`` (the value of ``metric``) are means
    over the seeds where the criterion fired, null when it never did. ``score_drop`` (final
    score minus the score at the stop) and ``labels_saved`` (the fraction of the run's final
    label count not spent) are means over all seeds, a seed that never stopped counting as
    stopping at the end (drop 0, nothing saved). ``not_applicable`` holds the reason when the
    criterion could not judge in any seed.
    """
    names: list[str] = []
    for r in group:
        names += [n for n in r.stopping if n not in names]
    out: dict[str, Any] = {}
    for name in names:
        per_seed, drops, saved, reasons = [], [], [], []
        applicable = False
        for r in group:
            info = r.stopping.get(name) or {"point": None, "reason": None, "applicable": False}
            applicable = applicable or bool(info["applicable"])
            curve = run_curve(r, metric)
            point = info["point"]
            if point is None:
                per_seed.append({"seed": r.seed, "iteration": None})
                drops.append(0.0)
                saved.append(0.0)
                reasons.append(info.get("reason"))
                continue
            per_seed.append(
                {
                    "seed": r.seed,
                    "iteration": int(point),
                    "labels": int(r.labels[point]),
                    "accuracy": float(r.accuracy[point]),
                    "score": float(curve[point]),
                }
            )
            drops.append(float(curve[-1] - curve[point]))
            saved.append(float(1.0 - r.labels[point] / r.labels[-1]))
        fired = [p for p in per_seed if p["iteration"] is not None]

        def mean(key: str, fired: list[dict[str, Any]] = fired) -> float | None:
            return float(np.mean([p[key] for p in fired])) if fired else None

        out[name] = {
            "iteration": mean("iteration"),
            "labels": mean("labels"),
            "accuracy": mean("accuracy"),
            "score": mean("score"),
            "fired": len(fired),
            "seeds": len(group),
            "score_drop": float(np.mean(drops)),
            "labels_saved": float(np.mean(saved)),
            "not_applicable": None if applicable else _why_not(reasons),
            "per_seed": per_seed,
        }
    return out


def _why_not(reasons: list[str | None]) -> str | None:
    why = next((r for r in reasons if r), None)
    return None if why is None else why.removeprefix("not applicable: ")


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in values]
