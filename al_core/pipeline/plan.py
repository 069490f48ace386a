"""Step 1 of an iteration: decide what this run does (a first batch, training, or nothing)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from al_core.pipeline.state import (
    labelled_items,
    labels_watermark,
    loop_state,
    new_label_count,
    pending_count,
)
from al_core.storage import ActiveLearningSettings, Workspace


@dataclass(frozen=True)
class Plan:
    iteration: int
    mode: str  # initial | train | skip
    n_new_labels: int
    n_labeled: int
    message: str
    labels_until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["labels_until"] = None if self.labels_until is None else self.labels_until.isoformat()
        return d


def plan_iteration(ws: Workspace, settings: ActiveLearningSettings, force: bool = False) -> Plan:
    """Decide what this run does: a first batch, a training round, or nothing (and why)."""
    state = loop_state(ws)
    it = state.next_iteration
    n_labeled = len(labelled_items(ws, texts=False))
    n_new = new_label_count(ws, state.labels_watermark)
    watermark = labels_watermark(ws)
    if state.stopped and not force:
        return Plan(
            it,
            "skip",
            n_new,
            n_labeled,
            "the last iteration met its stopping criteria; use --force to go on",
        )
    if n_labeled == 0:
        waiting = pending_count(ws)
        if waiting:
            return Plan(
                it,
                "skip",
                n_new,
                0,
                f"no labels yet; {waiting} items are waiting in the annotation queue",
            )
        return Plan(it, "initial", 0, 0, "no labels yet: exporting a first batch")
    if state.last_trained_iteration is None:
        return Plan(it, "train", n_new, n_labeled, "training the first model", watermark)
    if n_new < settings.min_new_labels and not force:
        return Plan(
            it,
            "skip",
            n_new,
            n_labeled,
            f"only {n_new} new labels since iteration {state.last_trained_iteration} "
            f"(fewer than min_new_labels={settings.min_new_labels}); not retraining",
        )
    return Plan(it, "train", n_new, n_labeled, f"{n_new} new labels: retraining", watermark)
