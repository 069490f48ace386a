"""Arrow schemas of the workspace tables (all append-only, one Parquet part per write)."""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    # Every text ever ingested. role: "pool" (may be queried) or "eval" (held-out evaluation).
    "pool": pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("content_hash", pa.string()),
            ("role", pa.string()),
            ("ingest_batch", pa.string()),
            ("source", pa.string()),
            ("metadata", pa.string()),  # JSON object of the file's other columns
            ("ingested_at", TS),
        ]
    ),
    # Every label an annotator (or an import) gave; the current label is derived from these.
    "label_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("id", pa.string()),
            ("labels", pa.list_(pa.string())),
            ("skipped", pa.bool_()),
            ("annotator", pa.string()),
            ("source", pa.string()),  # import | queue | simulate | cli
            ("iteration", pa.int32()),
            ("batch_id", pa.string()),
            # Dedupe key: the annotation's id and version (Label Studio), else a hash of the
            # content (item, labels, annotator, skip, annotated_at); see pipeline/label_import.
            ("external_key", pa.string()),
            ("created_at", TS),  # when alflow stored the event (import time)
            # When the annotation itself was made, where its format says (Label Studio's
            # updated_at/created_at, a time column of a CSV/JSONL file); NULL otherwise, and in
            # workspaces written before this column existed. See labels/policy.py for the order.
            ("annotated_at", TS),
        ]
    ),
    # Every item a strategy selected, with its score and the batch it was exported in.
    "query_log": pa.schema(
        [
            ("iteration", pa.int32()),
            ("batch_id", pa.string()),
            ("strategy", pa.string()),
            ("id", pa.string()),
            ("score", pa.float64()),
            ("rank", pa.int32()),
            ("model_version", pa.string()),
            ("created_at", TS),
        ]
    ),
    # One row per finished (or skipped) pipeline iteration.
    "iterations": pa.schema(
        [
            ("iteration", pa.int32()),
            ("status", pa.string()),  # completed | skipped | stopped
            ("started_at", TS),
            ("finished_at", TS),
            ("n_labeled", pa.int32()),
            ("n_new_labels", pa.int32()),
            ("labels_until", TS),  # newest label event the model was trained on
            ("classifier", pa.string()),
            ("embedder", pa.string()),
            ("strategy", pa.string()),
            ("model_version", pa.string()),
            ("accuracy", pa.float64()),
            ("macro_f1", pa.float64()),
            ("stop", pa.bool_()),
            ("stop_reason", pa.string()),
            ("batch_id", pa.string()),
            ("message", pa.string()),
        ]
    ),
    # Each criterion's decision per iteration, with its state for the next run.
    "stopping": pa.schema(
        [
            ("iteration", pa.int32()),
            ("criterion", pa.string()),
            ("value", pa.float64()),
            ("stop", pa.bool_()),
            ("reason", pa.string()),
            ("state", pa.string()),  # JSON
            # false: the criterion could not judge (e.g. kappa on multi-label); NULL in old rows
            ("applicable", pa.bool_()),
            ("created_at", TS),
        ]
    ),
    # Rows rejected by validation, with the reason; nothing is dropped silently.
    "quarantine": pa.schema(
        [
            ("quarantine_id", pa.string()),
            ("kind", pa.string()),  # ingest | labels
            ("id", pa.string()),
            ("text", pa.string()),
            ("labels", pa.string()),
            ("reason", pa.string()),
            ("source", pa.string()),
            ("row", pa.int64()),
            ("batch", pa.string()),
            ("created_at", TS),
        ]
    ),
    # One row per ingested or imported file; a file seen before is not read twice.
    "ingest_log": pa.schema(
        [
            ("batch_id", pa.string()),
            ("kind", pa.string()),  # pool | labels
            ("source", pa.string()),
            ("file_sha256", pa.string()),
            ("n_rows", pa.int64()),
            ("n_added", pa.int64()),
            ("n_duplicates", pa.int64()),
            ("n_labels", pa.int64()),
            ("n_quarantined", pa.int64()),
            ("created_at", TS),
        ]
    ),
}

TABLES = tuple(SCHEMAS)
