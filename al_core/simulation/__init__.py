"""Simulated active learning with gold labels, and the benchmark report built from it."""

from al_core.simulation.data import load_labelled_split, score_on_full_data, split_features
from al_core.simulation.loop import SimulationRun, simulate, strategy_name
from al_core.simulation.report import format_table, summarize, write_outputs

__all__ = [
    "SimulationRun",
    "format_table",
    "load_labelled_split",
    "score_on_full_data",
    "simulate",
    "split_features",
    "strategy_name",
    "summarize",
    "write_outputs",
]
