"""The active-learning loop on a workspace, step by step (Prefect-free; see tasks/ and flows/).

One iteration, one module per step::

    queue_import -> plan -> (skip | model: embed, train, evaluate -> stopping -> selection
    -> export) -> record

Every step reads its inputs from the workspace and writes its outputs as files; nothing is
visible to the next iteration until :func:`record_iteration` commits.
"""

from al_core.pipeline.export import batch_id_for, export_selection, queue_for
from al_core.pipeline.label_import import LabelImportReport, import_label_file
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
from al_core.pipeline.selection import select_batch
from al_core.pipeline.settings import resolve_settings
from al_core.pipeline.state import loop_state, pending_count, pipeline_status
from al_core.pipeline.stopping import check_stopping

__all__ = [
    "LabelImportReport",
    "Plan",
    "TrainedModel",
    "batch_id_for",
    "check_stopping",
    "ensure_embeddings",
    "evaluate_model",
    "export_selection",
    "import_label_file",
    "import_queue",
    "load_model",
    "loop_state",
    "pending_count",
    "pipeline_status",
    "plan_iteration",
    "queue_for",
    "record_iteration",
    "resolve_settings",
    "select_batch",
    "train_model",
]
