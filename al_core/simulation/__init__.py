"""Simulated active learning with gold labels, and the benchmark report built from it."""

from al_core.simulation.loop import SimulationRun, simulate, strategy_name
from al_core.simulation.report import format_table, summarize, write_outputs

__all__ = [
    "SimulationRun",
    "format_table",
    "simulate",
    "strategy_name",
    "summarize",
    "write_outputs",
]
