"""The active-learning loop on a workspace, step by step (Prefect-free; see tasks/ and flows/)."""

from al_core.pipeline.iteration import (
    Plan,
    batch_id_for,
    check_stopping,
    export_selection,
    plan_iteration,
    queue_for,
    record_iteration,
    resolve_settings,
    select_batch,
)
from al_core.pipeline.label_import import LabelImportReport, import_label_file
from al_core.pipeline.model import (
    TrainedModel,
    ensure_embeddings,
    evaluate_model,
    load_model,
    train_model,
)
from al_core.pipeline.queue_import import import_queue
from al_core.pipeline.state import loop_state, pending_count, pipeline_status

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
