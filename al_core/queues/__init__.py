"""Annotation queues: export batches to annotators and read their labels back."""

from al_core.queues.base import (
    REVIEW_PREFIX,
    AnnotationQueue,
    ExportBatch,
    ExportItem,
    LabelDelivery,
)
from al_core.queues.file_queue import BatchConflictError, FileQueue
from al_core.queues.label_files import (
    LABEL_ROW_COLUMNS,
    LabelFileError,
    LabelRow,
    LabelRows,
    content_key,
    label_rows,
    parse_ls_tasks,
    read_label_file,
)
from al_core.queues.labelstudio import LabelStudioQueue, token_source_for
from al_core.queues.labelstudio_client import (
    LabelStudioClient,
    LabelStudioError,
    LabelStudioUnavailable,
)
from al_core.queues.labelstudio_format import from_ls_tasks, label_config, to_ls_tasks

REGISTRY: dict[str, type[AnnotationQueue]] = {
    "file": FileQueue,
    "label-studio": LabelStudioQueue,
}

__all__ = [
    "LABEL_ROW_COLUMNS",
    "REGISTRY",
    "REVIEW_PREFIX",
    "AnnotationQueue",
    "BatchConflictError",
    "ExportBatch",
    "ExportItem",
    "FileQueue",
    "LabelDelivery",
    "LabelFileError",
    "LabelRow",
    "LabelRows",
    "LabelStudioClient",
    "LabelStudioError",
    "LabelStudioQueue",
    "LabelStudioUnavailable",
    "content_key",
    "from_ls_tasks",
    "label_config",
    "label_rows",
    "parse_ls_tasks",
    "read_label_file",
    "to_ls_tasks",
    "token_source_for",
]
