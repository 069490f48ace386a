"""Annotation queues: export batches to annotators and read their labels back.

The label-file readers (``label_files``, which need pandas) load on first use, so that
``alflow status`` can build a workspace's queue without importing pandas.
"""

import importlib
from typing import TYPE_CHECKING

from al_core.queues.base import (
    REVIEW_PREFIX,
    AnnotationQueue,
    ExportBatch,
    ExportItem,
    LabelDelivery,
)
from al_core.queues.file_queue import BatchConflictError, FileQueue
from al_core.queues.labelstudio import LabelStudioQueue, token_source_for
from al_core.queues.labelstudio_client import (
    LabelStudioClient,
    LabelStudioError,
    LabelStudioUnavailable,
)
from al_core.queues.labelstudio_format import from_ls_tasks, label_config, to_ls_tasks

_LABEL_FILES = (
    "LABEL_ROW_COLUMNS",
    "LabelFileError",
    "LabelRow",
    "LabelRows",
    "content_key",
    "label_rows",
    "parse_ls_tasks",
    "read_label_file",
)


def __getattr__(name: str):
    if name not in _LABEL_FILES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.label_files"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
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
