import pytest

from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.integration


def test_ingest_flow_stores_files_and_is_idempotent(prefect_server, make_workspace):
    from flows.ingest import ingest_flow

    ws = make_workspace(labels=TREC_LABELS)
    files = [str(TREC / "train.parquet"), str(TREC / "train.parquet")]
    state = ingest_flow(str(ws.path), files, return_state=True)
    assert state.is_completed()
    first, second = state.result()
    assert first["n_added"] == 5381 and second["already_ingested"]
    assert ws.scalar("SELECT count(*) FROM pool") == 5381
