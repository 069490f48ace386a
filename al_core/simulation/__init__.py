"""Simulated active learning with gold labels, and the benchmark report built from it."""

from al_core.simulation.data import (
    encode_splits,
    load_labelled_split,
    score_on_full_data,
    split_features,
    stopping_rows,
)
from al_core.simulation.loop import SimulationRun, simulate, strategy_name
from al_core.simulation.report import format_table, write_outputs
from al_core.simulation.summary import stopped_at, summarize

__all__ = [
    "SimulationRun",
    "encode_splits",
    "format_table",
    "load_labelled_split",
    "score_on_full_data",
    "simulate",
    "split_features",
    "stopped_at",
    "stopping_rows",
    "strategy_name",
    "summarize",
    "write_outputs",
]
