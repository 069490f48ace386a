"""Pruning old models (``prune_models``, ``alflow compact --keep-models``, ``keep_models``)."""

from __future__ import annotations

import fcntl
import json

import pytest
from typer.testing import CliRunner

from al_core.embeddings import EmbeddingCache
from al_core.errors import ConfigError
from al_core.pipeline import load_model, prune_models, resolve_settings, train_model
from al_core.pipeline.model import _previous_model, model_dir, read_meta
from tests.al_core.classifiers.tiny_models import build_tiny_model
from tests.al_core.pipeline.conftest import POOL_IDS, topic_of
from tests.al_core.pipeline.test_pipeline_steps import answer, run_train
from tests.e2e.cli_helpers import run_alflow


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from tests.al_core.pipeline.conftest import WORDS

    corpus = [" ".join(words) for words in WORDS.values()] * 20
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), corpus, vocab_size=120)


def _settings(ws, **overrides):
    ws.config.active_learning.stopping = ["max-iterations"]  # every round must query
    return resolve_settings(ws, **overrides)


def _train_rounds(ws, write_csv, settings, label_counts):
    """A recorded training iteration (1, 2, ...) after each count of true labels is reached."""
    paths, done = [], 0
    for n in label_counts:
        answer(ws, write_csv, topic_of, POOL_IDS[done:n])
        done = n
        paths.append(run_train(ws, settings, force=True)["model"])
    return paths


def test_only_the_newest_models_keep_their_weights_and_every_record_stays(pool_ws, write_csv):
    _train_rounds(pool_ws, write_csv, _settings(pool_ws), [9, 12, 15])
    root = model_dir(pool_ws, 0).parent
    before = {f.name: read_meta(f / "model")["version"] for f in sorted(root.glob("iter-*"))}

    result = prune_models(pool_ws, keep=2)

    assert result["models_pruned"] == ["iter-0001"]
    assert result["models_kept"] == ["iter-0002", "iter-0003"]
    assert result["bytes_freed"] > 0 and result["caches_dropped"] == []
    assert not (root / "iter-0001" / "model").exists()
    assert sorted(p.name for p in (root / "iter-0001").iterdir()) == [
        "meta.json",
        "selection.json",
    ]
    meta = json.loads((root / "iter-0001" / "meta.json").read_text())
    assert meta["version"] == before["iter-0001"]
    for name in ("iter-0002", "iter-0003"):
        assert load_model(root / name / "model").version == before[name]
    # A second prune with the same bound finds nothing more to do.
    again = prune_models(pool_ws, keep=2)
    assert again["models_pruned"] == [] and again["bytes_freed"] == 0


def test_the_model_of_an_unrecorded_iteration_is_left_alone_and_not_counted(pool_ws, write_csv):
    settings = _settings(pool_ws)
    _train_rounds(pool_ws, write_csv, settings, [9, 12])
    # Iteration 3 crashed after its train step: its model is saved, nothing recorded.
    answer(pool_ws, write_csv, topic_of, POOL_IDS[12:15])
    train_model(pool_ws, 3, classifier=settings.classifier, embedder=settings.embedder)

    result = prune_models(pool_ws, keep=1)

    assert result["models_pruned"] == ["iter-0001"] and result["models_kept"] == ["iter-0002"]
    assert (model_dir(pool_ws, 3) / "model").is_dir()
    # Its re-run still warm-starts from the last recorded model.
    assert _previous_model(pool_ws, 3, "logreg") == model_dir(pool_ws, 2) / "model"


def test_an_interrupted_prune_leaves_no_model_a_warm_start_would_load(pool_ws, write_csv):
    _train_rounds(pool_ws, write_csv, _settings(pool_ws), [9, 12])
    root = model_dir(pool_ws, 0).parent
    # What a prune killed between its rename and its delete leaves behind.
    (root / "iter-0002" / "model").rename(root / "iter-0002" / ".pruned-deadbeef")
    assert _previous_model(pool_ws, 5, "logreg") == root / "iter-0001" / "model"

    result = prune_models(pool_ws, keep=1)

    assert result["models_pruned"] == [] and result["models_kept"] == ["iter-0001"]
    assert not list(root.glob("iter-*/.pruned-*"))


def test_keep_must_leave_the_newest_model(pool_ws):
    with pytest.raises(ValueError, match="at least 1"):
        prune_models(pool_ws, keep=0)
    pool_ws.config.active_learning.keep_models = 0
    with pytest.raises(ConfigError, match="keep_models"):
        resolve_settings(pool_ws)


def test_setfit_bodies_no_kept_model_reads_lose_their_cached_vectors(pool_ws, write_csv, tiny_dir):
    spec = f"setfit:model={tiny_dir},num_iterations=2,max_pairs=40,num_threads=1"
    settings = _settings(pool_ws, classifier=spec, embedder=None)
    cache = EmbeddingCache(pool_ws.location.child("embeddings"))
    first, second = _train_rounds(pool_ws, write_csv, settings, [9, 18])  # 18: a new body
    old = f"setfit-body-{load_model(first).classifier.body_version_}"
    new = f"setfit-body-{load_model(second).classifier.body_version_}"
    assert old != new and cache.model_ids() == sorted([old, new])

    result = prune_models(pool_ws, keep=1)

    assert result["models_pruned"] == ["iter-0001"] and result["caches_dropped"] == [old]
    assert cache.model_ids() == [new] and cache.count(new) > 0
    assert not list((pool_ws.path / "embeddings").glob(".dropped-*"))
    # The loop goes on from the kept model: a warm start, its body's vectors still cached.
    answer(pool_ws, write_csv, topic_of, POOL_IDS[18:22])
    third = run_train(pool_ws, settings, force=True)["model"]
    assert read_meta(third)["warm_start_from"] == "models/iter-0002/model"
    assert read_meta(third)["train_info"]["body_trained"] is False
    assert cache.model_ids() == [new]


def test_compact_keep_models_prunes_under_the_run_lock(pool_ws, write_csv):
    from flows.cli import app

    _train_rounds(pool_ws, write_csv, _settings(pool_ws), [9, 12])
    runner = CliRunner()
    with pool_ws.run_lock():  # an iteration in progress, as another process sees it
        busy = run_alflow("compact", pool_ws.path, "--keep-models", "1")
    assert busy.returncode == 1
    assert busy.stderr.strip() == (
        f"error: an iteration is already running on workspace {pool_ws.uri}; wait for it to finish"
    )
    assert (model_dir(pool_ws, 1) / "model").is_dir()

    done = runner.invoke(app, ["compact", str(pool_ws.path), "--keep-models", "1"])
    assert done.exit_code == 0, done.output
    assert "deleted the weights of 1, kept iter-0002" in done.output
    assert not (model_dir(pool_ws, 1) / "model").exists()
    bad = runner.invoke(app, ["compact", str(pool_ws.path), "--keep-models", "0"])
    assert bad.exit_code != 0


def test_check_reports_model_disk_use_and_repair_deletes_interrupted_leftovers(
    pool_ws, write_csv, tiny_dir
):
    from al_core.pipeline.retention import check_artifacts, leftovers, remove_leftovers
    from al_core.storage.check import check_workspace

    spec = f"setfit:model={tiny_dir},num_iterations=2,max_pairs=40,num_threads=1"
    settings = _settings(pool_ws, classifier=spec, embedder=None)
    _train_rounds(pool_ws, write_csv, settings, [9, 12])
    root = model_dir(pool_ws, 0).parent
    cache = EmbeddingCache(pool_ws.location.child("embeddings"))
    (body,) = cache.model_ids()
    clean = check_workspace(pool_ws)
    check_artifacts(pool_ws, clean)
    assert clean.tables["models"]["saved"] == 2 and clean.tables["models"]["megabytes"] > 0
    assert not [p for p in clean.problems if p.table == "models"]

    # What a kill leaves: a prune between its rename and its delete, a model save between
    # writing its temporary folder and renaming it, and a cache drop on an object store after
    # deleting model.json (here a cache folder without one).
    (root / "iter-0001" / "model").rename(root / "iter-0001" / ".pruned-0badc0de")
    (root / "iter-0002" / ".tmp-0123").mkdir()
    (root / "iter-0002" / ".tmp-0123" / "model.json").write_text("{")
    orphan = pool_ws.path / "embeddings" / "setfit-body-gone"
    orphan.mkdir()
    (orphan / "vectors").mkdir()
    expected = [
        "embeddings/setfit-body-gone",
        "models/iter-0001/.pruned-0badc0de",
        "models/iter-0002/.tmp-0123",
    ]
    assert leftovers(pool_ws) == expected
    report = check_workspace(pool_ws)
    check_artifacts(pool_ws, report)
    (warning,) = [p for p in report.problems if p.table == "models"]
    assert warning.severity == "warning" and warning.message.startswith("3 leftover(s)")
    assert report.ok and report.tables["models"]["saved"] == 1

    # An iteration in progress in another process (its lock file taken): a half-saved model
    # is no leftover then, so nothing goes and nothing is judged.
    with open(pool_ws.path / ".run.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert remove_leftovers(pool_ws) == []
        busy = check_workspace(pool_ws)
        check_artifacts(pool_ws, busy)
        assert [p.severity for p in busy.problems if p.table == "models"] == ["note"]
    assert leftovers(pool_ws) == expected

    assert remove_leftovers(pool_ws) == [f"deleted leftover {key}" for key in expected]
    assert leftovers(pool_ws) == []
    assert cache.model_ids() == [body] and cache.count(body) > 0
    assert (
        load_model(root / "iter-0002" / "model").version
        == read_meta(root / "iter-0002" / "model")["version"]
    )


def test_check_repair_through_the_cli_deletes_leftovers(pool_ws, write_csv):
    _train_rounds(pool_ws, write_csv, _settings(pool_ws), [9, 12])
    root = model_dir(pool_ws, 0).parent
    (root / "iter-0001" / "model").rename(root / "iter-0001" / ".pruned-feedf00d")

    found = run_alflow("check", pool_ws.path)
    assert found.returncode == 0, found.stderr
    assert "models: saved 1, megabytes" in found.stdout
    assert (
        "warning: models: 1 leftover(s) of an interrupted model save, prune or cache drop: "
        "models/iter-0001/.pruned-feedf00d -> --repair: delete them" in found.stdout
    )
    fixed = run_alflow("check", pool_ws.path, "--repair")
    assert fixed.returncode == 0, fixed.stderr
    assert "repaired: deleted leftover models/iter-0001/.pruned-feedf00d" in fixed.stdout
    assert not (root / "iter-0001" / ".pruned-feedf00d").exists()
    assert "leftover" not in run_alflow("check", pool_ws.path).stdout.replace("repaired", "")
