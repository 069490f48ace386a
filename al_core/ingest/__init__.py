"""Reading user files and ingesting them, validated, into a workspace."""

from al_core.ingest.ingest import IngestReport, ingest_file
from al_core.ingest.readers import FORMATS, detect_format, file_sha256, read_table

__all__ = ["FORMATS", "IngestReport", "detect_format", "file_sha256", "ingest_file", "read_table"]
