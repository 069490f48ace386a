"""Prefect flows (iteration, ingest, simulate), the ``alflow`` command line and the demo."""
