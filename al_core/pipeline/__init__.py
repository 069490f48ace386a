"""The active-learning loop on a workspace, step by step (Prefect-free; see tasks/ and flows/).

One iteration, one module per step::

    queue_import -> plan -> (skip | model: embed, train, evaluate -> stopping -> selection
    -> export) -> record -> withdraw

Every step reads its inputs from the workspace and writes its outputs as files; nothing is
visible to the next iteration until :func:`record_iteration` commits.

The public names below load their module on first use (PEP 562), so ``alflow status``, which
needs only :mod:`al_core.pipeline.state`, does not import scikit-learn through the model step.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "batch_id_for": "export",
    "export_selection": "export",
    "queue_for": "export",
    "workspace_key": "export",
    "LabelImportReport": "label_import",
    "import_label_file": "label_import",
    "import_label_rows": "label_import",
    "TrainedModel": "model",
    "ensure_embeddings": "model",
    "evaluate_model": "model",
    "load_model": "model",
    "train_model": "model",
    "Plan": "plan",
    "plan_iteration": "plan",
    "import_queue": "queue_import",
    "prune_models": "retention",
    "record_iteration": "record",
    "select_batch": "selection",
    "resolve_settings": "settings",
    "loop_state": "state",
    "pending_count": "state",
    "pipeline_status": "state",
    "check_stopping": "stopping",
    "items_to_withdraw": "withdraw",
    "disagreement_report": "review",
    "send_review_batch": "review",
    "withdraw_items": "withdraw",
}

__all__ = [
    "LabelImportReport",
    "Plan",
    "TrainedModel",
    "batch_id_for",
    "check_stopping",
    "disagreement_report",
    "ensure_embeddings",
    "evaluate_model",
    "export_selection",
    "import_label_file",
    "import_label_rows",
    "import_queue",
    "items_to_withdraw",
    "load_model",
    "loop_state",
    "pending_count",
    "pipeline_status",
    "plan_iteration",
    "prune_models",
    "queue_for",
    "record_iteration",
    "resolve_settings",
    "select_batch",
    "send_review_batch",
    "train_model",
    "workspace_key",
    "withdraw_items",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from al_core.pipeline.export import (
        batch_id_for,
        export_selection,
        queue_for,
        workspace_key,
    )
    from al_core.pipeline.label_import import (
        LabelImportReport,
        import_label_file,
        import_label_rows,
    )
    from al_core.pipeline.model import (
        TrainedModel,
        ensure_embeddings,
        evaluate_model,
        load_model,
        train_model,
    )
    from al_core.pipeline.plan import Plan, plan_iteration
    from al_core.pipeline.queue_import import import_queue
    from al_core.pipeline.record import record_iteration
    from al_core.pipeline.retention import prune_models
    from al_core.pipeline.review import disagreement_report, send_review_batch
    from al_core.pipeline.selection import select_batch
    from al_core.pipeline.settings import resolve_settings
    from al_core.pipeline.state import loop_state, pending_count, pipeline_status
    from al_core.pipeline.stopping import check_stopping
    from al_core.pipeline.withdraw import items_to_withdraw, withdraw_items
