"""The pipeline's stopping step: every configured criterion, not-applicable rows, status."""

from __future__ import annotations

import csv
import json

import pytest

from al_core.errors import ConfigError
from al_core.pipeline import check_stopping, record_iteration, resolve_settings, train_model
from al_core.pipeline.plan import plan_iteration
from al_core.pipeline.state import pipeline_status
from al_core.storage import utcnow
from tests.al_core.pipeline.conftest import LABELS, POOL_IDS, _text, topic_of

ALL = [
    "max-iterations(max_iterations=1)",
    "kappa-average",
    "delta-f",
    "classification-change",
    "overall-uncertainty(threshold=0.9)",
    "label-budget(budget=12)",
    "eval-plateau(min_delta=0.5,patience=1)",  # canonical: parameters sorted
    "any(kappa-average,label-budget(budget=12))",
]


def one_iteration(ws, settings, force=False):
    plan = plan_iteration(ws, settings, force=force)
    model = train_model(ws, plan.iteration, classifier="logreg", embedder="tfidf")
    rows = check_stopping(ws, plan.iteration, model, settings)
    record_iteration(ws, plan, settings, utcnow(), status="completed", stopping_rows=rows)
    return {r["criterion"]: r for r in rows}


def import_truth(ws, tmp_path, ids, multi=False):
    from al_core.pipeline import import_label_file

    path = tmp_path / f"labels-{len(ids)}-{ids[0]}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        for i in ids:
            w.writerow([i, f"{topic_of(i)}|food" if multi else topic_of(i)])
    import_label_file(ws, path)


def test_every_criterion_runs_in_the_pipeline(pool_ws, tmp_path):
    settings = resolve_settings(pool_ws, stopping=ALL)
    import_truth(pool_ws, tmp_path, POOL_IDS[:6])
    first = one_iteration(pool_ws, settings, force=True)
    assert list(first) == ALL
    assert all(r["applicable"] for r in first.values())
    assert (
        first["max-iterations(max_iterations=1)"]["reason"] == "iteration 0 below max_iterations=1"
    )
    assert first["eval-plateau(min_delta=0.5,patience=1)"]["reason"].startswith("1 of 2 accuracy")
    import_truth(pool_ws, tmp_path, POOL_IDS[6:12])
    second = one_iteration(pool_ws, settings, force=True)
    assert second["max-iterations(max_iterations=1)"]["stop"]
    assert second["label-budget(budget=12)"]["reason"] == "12 labels reached the budget of 12"
    assert second["any(kappa-average,label-budget(budget=12))"]["stop"]
    assert second["eval-plateau(min_delta=0.5,patience=1)"]["stop"]  # gain <= 0.5
    assert json.loads(second["kappa-average"]["state"])["kappas"]  # history carried over
    change = second["classification-change"]
    assert change["applicable"] and 0.0 <= change["value"] <= 1.0
    status = pipeline_status(pool_ws)["stopping"]
    assert [d["criterion"] for d in status] == sorted(ALL)
    assert all(d["applicable"] and d["iteration"] == 2 for d in status)


def test_a_bad_criterion_fails_when_settings_resolve(pool_ws):
    with pytest.raises(ConfigError, match="needs budget"):
        resolve_settings(pool_ws, stopping=["label-budget"])
    with pytest.raises(ConfigError, match="unknown stopping criterion 'kapa'"):
        resolve_settings(pool_ws, stopping=["kapa"])


def test_not_applicable_is_recorded_and_shown(tmp_path):
    """Multi-label workspace without an evaluation set: kappa and eval-plateau cannot judge."""
    from al_core.ingest import ingest_file
    from al_core.storage import Workspace, WorkspaceConfig

    ws = Workspace.init(tmp_path / "ml", WorkspaceConfig(labels=list(LABELS), multi_label=True))
    with open(tmp_path / "pool.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in POOL_IDS[:30]:
            w.writerow([i, _text(topic_of(i), int(i[1:]), "pool")])
    ingest_file(ws, tmp_path / "pool.csv")
    import_truth(ws, tmp_path, POOL_IDS[:8], multi=True)
    settings = resolve_settings(
        ws,
        strategy="random",
        classifier="logreg",
        embedder="tfidf",
        stopping=["kappa-average", "eval-plateau", "delta-f", "all(kappa-average,delta-f)"],
    )
    rows = one_iteration(ws, settings, force=True)
    assert rows["kappa-average"]["applicable"] is False
    assert rows["kappa-average"]["reason"] == (
        "not applicable: kappa-average supports single-label tasks only"
    )
    assert rows["eval-plateau"]["reason"] == (
        "not applicable: no evaluation scores (no labelled evaluation set)"
    )
    assert rows["all(kappa-average,delta-f)"]["applicable"] is False
    assert rows["delta-f"]["applicable"] is True
    stored = ws.query("SELECT criterion, applicable, stop FROM stopping ORDER BY criterion")
    assert stored.applicable.tolist() == [False, True, False, False]
    assert not stored.stop.any()
    shown = {d["criterion"]: d for d in pipeline_status(ws)["stopping"]}
    assert shown["kappa-average"]["applicable"] is False
    assert "single-label tasks only" in shown["kappa-average"]["reason"]
