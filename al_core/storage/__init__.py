"""Workspace storage: Parquet tables written atomically, read together through DuckDB."""

from al_core.storage.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    atomic_write_text,
)
from al_core.storage.config import ActiveLearningSettings, WorkspaceConfig
from al_core.storage.schema import SCHEMAS, TABLES
from al_core.storage.status import workspace_status
from al_core.storage.workspace import Transaction, Workspace, utcnow

__all__ = [
    "SCHEMAS",
    "TABLES",
    "ActiveLearningSettings",
    "Transaction",
    "Workspace",
    "WorkspaceConfig",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_parquet",
    "atomic_write_text",
    "utcnow",
    "workspace_status",
]
