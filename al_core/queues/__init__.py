"""Annotation queues: export batches to annotators and read their label files back."""

from al_core.queues.base import AnnotationQueue, ExportBatch, ExportItem
from al_core.queues.file_queue import BatchConflictError, FileQueue
from al_core.queues.label_files import (
    LABEL_ROW_COLUMNS,
    LabelFileError,
    LabelRow,
    LabelRows,
    content_key,
    label_rows,
    read_label_file,
)
from al_core.queues.labelstudio_format import label_config, to_ls_tasks

REGISTRY: dict[str, type[AnnotationQueue]] = {"file": FileQueue}

__all__ = [
    "LABEL_ROW_COLUMNS",
    "REGISTRY",
    "AnnotationQueue",
    "BatchConflictError",
    "ExportBatch",
    "ExportItem",
    "FileQueue",
    "LabelFileError",
    "LabelRow",
    "LabelRows",
    "content_key",
    "label_config",
    "label_rows",
    "read_label_file",
    "to_ls_tasks",
]
