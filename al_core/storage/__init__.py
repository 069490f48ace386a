"""Workspace storage: Delta tables with a workspace commit log, read together through DuckDB."""

from al_core.storage.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from al_core.storage.commits import Recovery, Snapshot
from al_core.storage.config import ActiveLearningSettings, QueueSettings, WorkspaceConfig
from al_core.storage.location import Location, is_remote
from al_core.storage.schema import SCHEMAS, TABLES
from al_core.storage.status import workspace_status
from al_core.storage.workspace import Transaction, Workspace, utcnow

__all__ = [
    "SCHEMAS",
    "TABLES",
    "ActiveLearningSettings",
    "QueueSettings",
    "Location",
    "Recovery",
    "Snapshot",
    "Transaction",
    "Workspace",
    "WorkspaceConfig",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "is_remote",
    "utcnow",
    "workspace_status",
]
