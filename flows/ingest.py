"""Ingest files into a workspace as a Prefect flow (for scheduled or remote ingestion).

The ``alflow ingest`` command calls :func:`al_core.ingest.ingest_file` directly, which avoids
Prefect's start-up cost for an interactive command; deployments use this flow.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact

from al_core.storage import Workspace
from tasks import ingest


@flow(name="alflow-ingest")
def ingest_flow(
    workspace: str,
    files: list[str],
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    role: str = "pool",
) -> list[dict[str, Any]]:
    """Ingest ``files`` one after the other (the workspace has one writer at a time)."""
    Workspace.open(workspace)
    reports = [
        ingest(
            workspace,
            f,
            text_column=text_column,
            label_column=label_column,
            id_column=id_column,
            role=role,
        )
        for f in files
    ]
    create_table_artifact(
        key="alflow-ingest",
        table=[
            {
                k: r[k]
                for k in (
                    "source",
                    "n_rows",
                    "n_added",
                    "n_duplicates",
                    "n_labels",
                    "n_quarantined",
                    "already_ingested",
                )
            }
            for r in reports
        ],
        description="files ingested by the last alflow-ingest run",
    )
    return reports
