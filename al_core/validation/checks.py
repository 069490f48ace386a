"""Row-level data checks run by great-expectations, turned into one reason per failing row.

A :class:`Check` names an expectation on one column and how to word the failure for a row.
:func:`run_checks` builds one suite from the checks, validates the whole batch in a single
great-expectations run, and returns a reason string per row ("" when the row passed), so the
caller can store good rows and quarantine the others with the reason. A reason function may
return "" to defer to another check that explains the row better.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Check:
    """``expectation`` is a great-expectations class name, e.g. ``ExpectColumnValuesToNotBeNull``."""

    expectation: str
    column: str
    reason: Callable[[Any], str]  # a failing row (a named tuple of the frame's columns) -> text
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckReport:
    reasons: pd.Series  # one string per row; "" when the row passed every check
    statistics: dict[str, Any]

    @property
    def failed(self) -> pd.Series:
        return self.reasons != ""


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def run_checks(frame: pd.DataFrame, checks: Sequence[Check], name: str = "batch") -> CheckReport:
    """Validate ``frame`` against ``checks`` with great-expectations; see the module docstring."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    frame = frame.reset_index(drop=True)
    reasons = pd.Series([""] * len(frame), dtype=object)
    if frame.empty or not checks:
        return CheckReport(reasons.astype(str), {"evaluated_expectations": 0})
    context = _context()
    suffix = os.urandom(4).hex()
    batch_def = (
        context.data_sources.add_pandas(name=f"{name}-{suffix}")
        .add_dataframe_asset(name="rows")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = gx.ExpectationSuite(name=f"{name}-suite-{suffix}")
    for check in checks:
        suite.add_expectation(getattr(gxe, check.expectation)(column=check.column, **check.kwargs))
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format="COMPLETE")
    by_key = {(c.expectation, c.column): c for c in checks}
    for res in result.results:
        cfg = res.expectation_config
        check = by_key[(type(cfg.to_domain_obj()).__name__, cfg.kwargs["column"])]
        if res.success:
            continue
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"great-expectations could not run {check.expectation} on {check.column!r}: "
                f"{res.exception_info.get('exception_message')}"
            )
        failing = [int(i) for i in res.result.get("unexpected_index_list") or []]
        for idx, row in zip(failing, frame.iloc[failing].itertuples(index=False), strict=True):
            text = check.reason(row)
            if text:
                reasons.iat[idx] = f"{reasons.iat[idx]}; {text}" if reasons.iat[idx] else text
    context.data_sources.delete(f"{name}-{suffix}")
    return CheckReport(reasons.astype(str), dict(result.statistics))
