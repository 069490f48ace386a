"""Data validation with great-expectations (imported lazily: it costs seconds to import)."""

from al_core.validation.checks import Check, CheckReport, run_checks

__all__ = ["Check", "CheckReport", "run_checks"]
