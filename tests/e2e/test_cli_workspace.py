"""The workspace commands end to end, through the installed ``alflow`` script."""

import signal

import pandas as pd
import pytest
from cli_helpers import run_alflow, status_json

from tests.conftest import TREC_LABELS


def test_init_ingest_status_on_trec(tmp_path, trec_dir):
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", ",".join(TREC_LABELS), check=True)
    r = run_alflow("ingest", ws, trec_dir / "train.parquet", "--label-column", "label", check=True)
    assert "5452 rows read" in r.stdout
    st = status_json(ws)
    assert st["pool_size"] == 5381 and st["labelled"] == 5381 and st["unlabelled"] == 0
    assert st["label_counts"]["ENTY"] == 1245
    assert st["quarantined"] == 0 and st["iterations"] == 0
    again = run_alflow("ingest", ws, trec_dir / "train.parquet", check=True)
    assert "already ingested" in again.stdout
    assert status_json(ws) == st


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("status", "{tmp}/missing"), "not an alflow workspace"),
        (("ingest", "{ws}", "{tmp}/nope.csv"), "no such file"),
        (("init", "{ws}", "--labels", "a,b"), "already an alflow workspace"),
        (("init", "{tmp}/other", "--labels", "a,a"), "duplicate label names"),
    ],
)
def test_errors_are_one_line_with_nonzero_exit(tmp_path, args, message):
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", "pos,neg", check=True)
    r = run_alflow(*(a.format(tmp=tmp_path, ws=ws) for a in args))
    assert r.returncode != 0
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_bad_file_leaves_workspace_intact(tmp_path):
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", "pos,neg", check=True)
    (tmp_path / "good.csv").write_text("text,label\nfine,pos\n")
    run_alflow("ingest", ws, tmp_path / "good.csv", check=True)
    before = status_json(ws)
    (tmp_path / "bad.csv").write_bytes("text,label\ncaf\xe9,pos\n".encode("latin-1"))
    r = run_alflow("ingest", ws, tmp_path / "bad.csv")
    assert r.returncode == 1 and "not valid utf-8 (byte 0xe9" in r.stderr
    assert status_json(ws) == before


@pytest.mark.parametrize(("point", "visible"), [("staged-part", False), ("committed", True)])
def test_ingest_killed_mid_write_leaves_a_readable_workspace(tmp_path, point, visible):
    """SIGKILL inside the commit: before the marker the batch vanishes, after it it lands whole."""
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", "pos,neg", check=True)
    rows = pd.DataFrame(
        {"text": [f"text number {i}" for i in range(3000)], "label": ["pos", "neg", ""] * 1000}
    )
    rows.to_csv(tmp_path / "big.csv", index=False)
    r = run_alflow("ingest", ws, tmp_path / "big.csv", env={"ALFLOW_CRASHPOINT": point})
    assert r.returncode == -signal.SIGKILL
    st = status_json(ws)  # opening recovers: rolls back or forward
    if visible:
        assert (st["pool_size"], st["labelled"], st["ingested_files"]) == (3000, 2000, 1)
        again = run_alflow("ingest", ws, tmp_path / "big.csv", check=True)
        assert "already ingested" in again.stdout
    else:
        assert (st["pool_size"], st["label_events"], st["ingested_files"]) == (0, 0, 0)
        run_alflow("ingest", ws, tmp_path / "big.csv", check=True)
        st = status_json(ws)
        assert (st["pool_size"], st["labelled"]) == (3000, 2000)


def test_ingest_reports_quarantine_counts(tmp_path):
    ws = tmp_path / "ws"
    run_alflow("init", ws, "--labels", "pos,neg", "--max-text-chars", "10", check=True)
    (tmp_path / "f.csv").write_text("text,label\nok,pos\n,neg\nway too long text,pos\nfine,other\n")
    r = run_alflow("ingest", ws, tmp_path / "f.csv", check=True)
    assert "1 added to the pool" in r.stdout and "3 quarantined" in r.stdout
    assert "text too long" in r.stdout and "unknown label" in r.stdout
    assert status_json(ws)["quarantined"] == 3
