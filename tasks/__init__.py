"""Prefect tasks: thin wrappers over al_core, one concern each, passing paths not objects.

Every task takes the workspace path (a string) and JSON-able settings, opens the workspace
itself, and returns small JSON-able results or file paths. Tasks use ``NO_CACHE``: their inputs
are paths whose contents change, so Prefect's input hashing would be wrong and wasteful.
"""

from tasks.evaluate import evaluate
from tasks.export import export_batch
from tasks.ingest import ingest
from tasks.labels import import_labels
from tasks.partitions import embed_partition, plan_embedding, plan_scoring, score_partition
from tasks.plan import plan
from tasks.prune import prune
from tasks.query import select
from tasks.record import record
from tasks.stopping import check_stop
from tasks.train import train
from tasks.withdraw import withdraw

__all__ = [
    "check_stop",
    "embed_partition",
    "evaluate",
    "export_batch",
    "import_labels",
    "ingest",
    "plan",
    "plan_embedding",
    "plan_scoring",
    "prune",
    "record",
    "score_partition",
    "select",
    "train",
    "withdraw",
]
