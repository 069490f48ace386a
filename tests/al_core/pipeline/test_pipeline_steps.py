"""The iteration steps called directly (no Prefect): plan, select, export, record, stopping,
train/evaluate/load, status. Classifier ``logreg`` on ``tfidf`` keeps every step fast."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from al_core.pipeline import (
    check_stopping,
    evaluate_model,
    export_selection,
    import_label_file,
    load_model,
    loop_state,
    pending_count,
    pipeline_status,
    plan_iteration,
    queue_for,
    record_iteration,
    resolve_settings,
    select_batch,
    train_model,
)
from al_core.pipeline.state import candidate_items, labelled_items, labels_watermark
from al_core.registry import make_initializer
from al_core.seeding import selection_seed
from al_core.storage import utcnow

# --- helpers ------------------------------------------------------------------------------

_FILE_NUMBERS = itertools.count(1)


def answer(ws, write_csv, truth, ids, *, skip=()):
    """Import true labels for ``ids`` and skips for ``skip`` (a CSV in the queue's format)."""
    rows = [(i, truth(i)) for i in ids] + [(i, "") for i in skip]
    return import_label_file(ws, write_csv(f"answers-{next(_FILE_NUMBERS)}.csv", rows))


def selected(path) -> list[str]:
    return [it["id"] for it in json.loads(Path(path).read_text())["items"]]


def unlabelled_ids(ws, n, exclude=()) -> list[str]:
    ids = [i for i in candidate_items(ws).id if i not in set(exclude)]
    return ids[:n]


def model_dir_selection(ws, iteration) -> Path:
    return ws.path / "models" / f"iter-{iteration:04d}" / "selection.json"


def run_initial(ws, settings):
    plan = plan_iteration(ws, settings)
    assert plan.mode == "initial", plan
    selection = select_batch(ws, plan.iteration, None, settings)
    export_selection(ws, plan.iteration, selection)
    record_iteration(ws, plan, settings, utcnow(), status="initial", selection_path=selection)
    return plan, selected(selection)


def run_train(ws, settings, force=False):
    """One training iteration as the flow chains it; returns what each step produced."""
    started = utcnow()
    plan = plan_iteration(ws, settings, force=force)
    assert plan.mode == "train", plan
    model = train_model(
        ws, plan.iteration, classifier=settings.classifier, embedder=settings.embedder
    )
    metrics = evaluate_model(ws, model)
    stopping = check_stopping(ws, plan.iteration, model, settings)
    selection = None
    if any(r["stop"] for r in stopping):
        status = "stopped"
    else:
        status = "completed"
        selection = select_batch(ws, plan.iteration, model, settings)
        export_selection(ws, plan.iteration, selection)
    row = record_iteration(
        ws,
        plan,
        settings,
        started,
        status=status,
        metrics=metrics,
        stopping_rows=stopping,
        selection_path=selection,
        model_path=model,
    )
    return {"plan": plan, "model": model, "stopping": stopping, "row": row, "sel": selection}


@pytest.fixture
def settings(pool_ws):
    return resolve_settings(pool_ws)


# --- plan_iteration -----------------------------------------------------------------------


def test_plan_modes_through_a_loop(pool_ws, settings, write_csv, truth):
    ws = pool_ws
    plan = plan_iteration(ws, settings)
    assert (plan.iteration, plan.mode, plan.n_labeled) == (1, "initial", 0)
    assert plan.message == "no labels yet: exporting a first batch"

    plan, batch = run_initial(ws, settings)
    st = loop_state(ws)
    assert (st.next_iteration, st.last_trained_iteration, st.n_trained) == (2, None, 0)
    assert not st.stopped and st.labels_watermark is None

    waiting = plan_iteration(ws, settings)
    assert (waiting.iteration, waiting.mode) == (2, "skip")
    assert waiting.message == "no labels yet; 5 items are waiting in the annotation queue"
    record_iteration(ws, waiting, settings, utcnow(), status="skipped")
    assert loop_state(ws).next_iteration == 2  # a skipped run consumes no iteration number

    answer(ws, write_csv, truth, batch)
    first = plan_iteration(ws, settings)
    assert (first.iteration, first.mode, first.n_labeled) == (2, "train", 5)
    assert first.n_new_labels == 5  # the labelled eval items are not training labels
    assert first.message == "training the first model"
    assert first.labels_until == labels_watermark(ws)

    out = run_train(ws, settings)
    assert out["row"]["status"] == "completed" and out["row"]["n_queried"] == 5
    st = loop_state(ws)
    assert (st.next_iteration, st.last_trained_iteration, st.n_trained) == (3, 2, 1)
    assert st.labels_watermark == first.labels_until

    # Skips are answers but not labels: they never count towards retraining.
    answer(ws, write_csv, truth, [], skip=unlabelled_ids(ws, 4))
    nothing = plan_iteration(ws, settings)
    assert (nothing.mode, nothing.n_new_labels) == ("skip", 0)
    answer(ws, write_csv, truth, selected(out["sel"])[:2])
    few = plan_iteration(ws, settings)
    assert (few.iteration, few.mode, few.n_new_labels, few.n_labeled) == (3, "skip", 2, 7)
    assert few.message == (
        "only 2 new labels since iteration 2 (fewer than min_new_labels=3); not retraining"
    )
    forced = plan_iteration(ws, settings, force=True)
    assert (forced.mode, forced.n_new_labels) == ("train", 2)
    assert forced.message == "2 new labels: retraining"

    answer(ws, write_csv, truth, selected(out["sel"])[2:3])
    enough = plan_iteration(ws, settings)
    assert (enough.iteration, enough.mode, enough.n_new_labels) == (3, "train", 3)
    assert plan_iteration(ws, resolve_settings(ws, min_new_labels=4)).mode == "skip"


def test_min_new_labels_counts_items_whose_label_changed_not_events(pool_ws, settings, write_csv):
    ws = pool_ws
    ids = [f"p{k:02d}" for k in range(6)]
    import_label_file(ws, write_csv("first.csv", [(i, "sport", "al") for i in ids]))
    plan = plan_iteration(ws, settings)
    assert (plan.mode, plan.n_new_labels) == ("train", 6)
    record_iteration(ws, plan, settings, utcnow(), status="completed")  # as if trained

    # A second annotator confirms every label, and a third repeats two of them: 8 events, but
    # what the model would learn from is the same.
    import_label_file(ws, write_csv("bo.csv", [(i, "sport", "bo") for i in ids]))
    import_label_file(ws, write_csv("cy.csv", [(i, "sport", "cy") for i in ids[:2]]))
    assert plan_iteration(ws, settings).n_new_labels == 0
    assert pipeline_status(ws)["queue"]["new_labels_since_training"] == 0
    # Two relabels (one of them twice) and one newly labelled item: three items changed.
    import_label_file(ws, write_csv("fix.csv", [("p00", "tech"), ("p01", "food"), ("p07", "tech")]))
    import_label_file(ws, write_csv("fix2.csv", [("p00", "food", "dee")]))
    again = plan_iteration(ws, settings)
    assert (again.mode, again.n_new_labels) == ("train", 3)
    # Relabelled back to what the model was trained on: no longer a change.
    import_label_file(ws, write_csv("back.csv", [("p01", "sport", "al2"), ("p01", "sport", "al3")]))
    assert plan_iteration(ws, settings).n_new_labels == 2


def test_max_iterations_stops_and_a_stopped_loop_waits_for_force(pool_ws, write_csv, truth):
    # max-iterations counts query rounds: the first model is round 0 (as in the learner).
    settings = resolve_settings(pool_ws, max_iterations=1, stopping=["max-iterations"])
    _, batch = run_initial(pool_ws, settings)  # iteration 1 trains nothing
    answer(pool_ws, write_csv, truth, batch)
    first = run_train(pool_ws, settings)  # iteration 2, first model
    assert [r["stop"] for r in first["stopping"]] == [False]
    assert first["stopping"][0]["reason"] == "iteration 0 below max_iterations=1"
    second = run_train(pool_ws, settings, force=True)  # iteration 3: one round queried
    assert second["row"]["status"] == "stopped" and second["row"]["stop"]
    assert second["row"]["stop_reason"] == "iteration 1 reached max_iterations=1"
    assert second["sel"] is None and second["row"]["batch_id"] is None
    assert loop_state(pool_ws).stopped

    answer(pool_ws, write_csv, truth, selected(first["sel"]))  # enough new labels, yet
    plan = plan_iteration(pool_ws, settings)
    assert (plan.iteration, plan.mode, plan.n_new_labels) == (4, "skip", 5)
    assert "stopping criteria" in plan.message and "--force" in plan.message
    assert plan_iteration(pool_ws, settings, force=True).mode == "train"

    rows = pool_ws.query("SELECT iteration, status, stop FROM iterations ORDER BY iteration")
    assert rows.status.tolist() == ["initial", "completed", "stopped"]
    assert rows.stop.tolist() == [False, False, True]


# --- select_batch -------------------------------------------------------------------------


def test_initial_selection_uses_the_initializer_and_is_deterministic(pool_ws, settings):
    first = json.loads(select_batch(pool_ws, 1, None, settings).read_text())
    again = json.loads(select_batch(pool_ws, 1, None, settings).read_text())
    assert first == again
    assert first["strategy"] == "init:random" and first["model_version"] is None
    candidates = candidate_items(pool_ws)
    picks = make_initializer("random").select(
        len(candidates), settings.batch_size, seed=selection_seed(settings.seed, 0)
    )
    assert [it["id"] for it in first["items"]] == candidates.id.iloc[picks].tolist()
    assert [it["rank"] for it in first["items"]] == list(range(5))
    assert all(it["score"] is None and it["predicted"] is None for it in first["items"])
    other = resolve_settings(pool_ws, seed=1)
    assert selected(select_batch(pool_ws, 1, None, other)) != [it["id"] for it in first["items"]]


def test_selection_never_picks_labelled_skipped_eval_or_pending_items(
    pool_ws, settings, write_csv, truth
):
    ws = pool_ws
    _, batch = run_initial(ws, settings)
    answer(ws, write_csv, truth, batch[:2], skip=batch[2:3])  # batch[3:] stay pending
    others = unlabelled_ids(ws, 8, exclude=batch)
    answer(ws, write_csv, truth, others[:6], skip=others[6:])
    labelled = set(batch[:2]) | set(others[:6])
    skipped = {batch[2], *others[6:]}
    pending = set(batch[3:])
    assert pending_count(ws) == 2
    assert set(candidate_items(ws).id).isdisjoint(labelled | skipped | pending)
    full, lean = labelled_items(ws), labelled_items(ws, texts=False)
    assert set(full.id) == labelled and list(lean.columns) == ["id", "content_hash", "labels"]
    assert lean.equals(full.drop(columns="text"))

    everything = resolve_settings(ws, batch_size=100)
    pool_ids = {f"p{k:02d}" for k in range(60)}
    expected = pool_ids - labelled - skipped - pending
    assert len(expected) == 60 - 8 - 3 - 2
    initial = selected(select_batch(ws, 2, None, everything))
    assert len(initial) == len(set(initial)) and set(initial) == expected

    out = run_train(ws, settings)
    ids = selected(out["sel"])
    assert len(ids) == settings.batch_size == len(set(ids))
    assert set(ids) <= expected
    # The batch just recorded is pending too now.
    model_pick = selected(select_batch(ws, 9, out["model"], everything))
    assert len(model_pick) == len(set(model_pick)) and set(model_pick) == expected - set(ids)


def test_model_selection_is_deterministic_and_annotated(pool_ws, settings, write_csv, truth):
    answer(pool_ws, write_csv, truth, unlabelled_ids(pool_ws, 9))
    plan = plan_iteration(pool_ws, settings)
    model = train_model(pool_ws, plan.iteration, classifier="logreg", embedder="tfidf")
    first = json.loads(select_batch(pool_ws, plan.iteration, model, settings).read_text())
    again = json.loads(select_batch(pool_ws, plan.iteration, model, settings).read_text())
    assert first == again
    meta = json.loads((Path(model).parent / "meta.json").read_text())
    assert first["strategy"] == settings.strategy and first["model_version"] == meta["version"]
    assert len(first["items"]) == 5
    for rank, it in enumerate(first["items"]):
        assert it["rank"] == rank and isinstance(it["score"], float)
        assert len(it["predicted"]) == 1 and it["predicted"][0] in ("sport", "tech", "food")


@pytest.mark.parametrize("trained", [False, True], ids=["initial", "trained"])
def test_an_exported_but_unrecorded_batch_is_adopted(pool_ws, write_csv, truth, trained):
    ws = pool_ws
    settings = resolve_settings(ws)
    model = None
    if trained:
        answer(ws, write_csv, truth, unlabelled_ids(ws, 9))
    plan = plan_iteration(ws, settings)
    if trained:
        model = train_model(ws, plan.iteration, classifier="logreg", embedder="tfidf")
    original = json.loads(select_batch(ws, plan.iteration, model, settings).read_text())
    outbox = export_selection(ws, plan.iteration, model_dir_selection(ws, plan.iteration))
    exported = Path(outbox).read_bytes()
    # The run crashes here: nothing recorded. The re-run, even with other settings, adopts it.
    other = resolve_settings(ws, strategy="random", seed=7)
    path = select_batch(ws, plan.iteration, model, other)
    adopted = json.loads(path.read_text())
    assert adopted["strategy"] == "adopted"
    assert adopted["model_version"] == original["model_version"]
    assert [it["id"] for it in adopted["items"]] == [it["id"] for it in original["items"]]
    assert [it["predicted"] for it in adopted["items"]] == [
        it["predicted"] for it in original["items"]
    ]
    assert [it["score"] for it in adopted["items"]] == [it["score"] for it in original["items"]]
    assert export_selection(ws, plan.iteration, path) == outbox  # same content: no conflict
    assert Path(outbox).read_bytes() == exported
    status = "completed" if trained else "initial"
    record_iteration(
        ws, plan, other, utcnow(), status=status, selection_path=path, model_path=model
    )
    log = ws.query("SELECT id, strategy, batch_id FROM query_log ORDER BY rank")
    assert log.id.tolist() == [it["id"] for it in original["items"]]
    assert set(log.batch_id) == {f"batch-{plan.iteration:04d}"} and set(log.strategy) == {"adopted"}


# --- record_iteration and the stopping history --------------------------------------------


def test_record_iteration_writes_its_rows_together(pool_ws, settings, write_csv, truth):
    answer(pool_ws, write_csv, truth, unlabelled_ids(pool_ws, 9))
    out = run_train(pool_ws, settings)
    row = out["row"]
    assert (row["iteration"], row["status"], row["n_queried"]) == (1, "completed", 5)
    assert row["batch_id"] == "batch-0001" and 0 <= row["accuracy"] <= 1
    it = pool_ws.query("SELECT * FROM iterations")
    assert len(it) == 1 and it.model_version.iloc[0] == row["model_version"]
    assert it.labels_until.iloc[0].to_pydatetime() == out["plan"].labels_until
    log = pool_ws.query("SELECT * FROM query_log ORDER BY rank")
    assert log.id.tolist() == selected(out["sel"]) and log["rank"].tolist() == list(range(5))
    assert set(log.iteration) == {1} and set(log.model_version) == {row["model_version"]}
    stop = pool_ws.query("SELECT * FROM stopping ORDER BY criterion")
    assert stop.criterion.tolist() == ["kappa-average", "max-iterations"]
    assert set(stop.iteration) == {1}
    # One transaction: the three tables got their part at the same moment.
    created = {log.created_at.iloc[0], stop.created_at.iloc[0], it.finished_at.iloc[0]}
    assert len(created) == 1
    assert pending_count(pool_ws) == 5
    assert (queue_for(pool_ws).outbox / "batch-0001.json").is_file()


def test_kappa_state_persists_across_iterations_and_reruns_do_not_double_count(
    pool_ws, write_csv, truth
):
    ws = pool_ws
    settings = resolve_settings(ws)
    answer(ws, write_csv, truth, unlabelled_ids(ws, 6))
    histories = []
    for k in range(3):
        plan = plan_iteration(ws, settings, force=True)
        model = train_model(ws, plan.iteration, classifier="logreg", embedder="tfidf")
        rows = check_stopping(ws, plan.iteration, model, settings)
        if k == 2:  # a crashed run redone reads the same stored state: no double count
            assert check_stopping(ws, plan.iteration, model, settings) == rows
        kappa = {r["criterion"]: r for r in rows}["kappa-average"]
        state = json.loads(kappa["state"])
        assert len(state["previous_predictions"]) == settings.stopping_set_size
        histories.append(state["kappas"])
        maxit = {r["criterion"]: r for r in rows}["max-iterations"]
        assert maxit["value"] == k  # query rounds before this model
        record_iteration(ws, plan, settings, utcnow(), status="completed", stopping_rows=rows)
    # Forced retraining on the same labels predicts the same: each new pair agrees fully.
    assert histories == [[], [1.0], [1.0, 1.0]]
    saved = ws.query("SELECT iteration, state FROM stopping WHERE criterion = 'kappa-average'")
    assert sorted(saved.iteration) == [1, 2, 3]
    ids = json.loads((ws.path / "models" / "stopping_set.json").read_text())["ids"]
    assert len(ids) == settings.stopping_set_size


# --- train / evaluate / load --------------------------------------------------------------


def test_train_saves_model_and_meta_and_load_round_trips(pool_ws, settings, write_csv, truth):
    answer(pool_ws, write_csv, truth, unlabelled_ids(pool_ws, 12))
    path = train_model(pool_ws, 4, classifier="logreg", embedder="tfidf")
    assert path == pool_ws.path / "models" / "iter-0004" / "model"
    meta = json.loads((path.parent / "meta.json").read_text())
    assert meta["iteration"] == 4 and meta["n_labeled"] == 12
    assert (meta["classifier"], meta["embedder"]) == ("logreg", "tfidf")
    assert meta["labels"] == ["sport", "tech", "food"]
    assert meta["version"].startswith("iter-0004-logreg-")

    items = pool_ws.query("SELECT id, text, content_hash FROM pool ORDER BY id")
    model = load_model(path)
    again = load_model(path)
    assert model.version == meta["version"] and model.embedder is not None
    X = model.features(pool_ws, items)
    proba = model.classifier.predict_proba(X)
    np.testing.assert_allclose(
        again.classifier.predict_proba(again.features(pool_ws, items)), proba
    )
    predicted = model.predict_labels(X)
    assert predicted == again.predict_labels(again.features(pool_ws, items))
    assert all(len(p) == 1 and p[0] in ("sport", "tech", "food") for p in predicted)

    metrics = evaluate_model(pool_ws, path)
    assert metrics["n_eval"] == 9
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["macro_f1"] <= 1

    # The version names the labels trained on: the same labels give the same version.
    retrained = train_model(pool_ws, 4, classifier="logreg", embedder="tfidf")
    assert load_model(retrained).version == meta["version"]


def test_training_without_labels_fails_clearly(pool_ws):
    with pytest.raises(ValueError, match="no labelled items"):
        train_model(pool_ws, 1, classifier="logreg", embedder="tfidf")


def test_evaluate_without_labelled_eval_items_gives_no_metrics(make_workspace, tmp_path):
    from al_core.ingest import ingest_file

    ws = make_workspace(labels=["pos", "neg"])
    rows = [
        f"t{k},{'good great fine' if k % 2 else 'bad awful poor'} {k},{'pos' if k % 2 else 'neg'}"
        for k in range(8)
    ]
    (tmp_path / "pool.csv").write_text("id,text,label\n" + "\n".join(rows) + "\n")
    ingest_file(ws, tmp_path / "pool.csv")
    path = train_model(ws, 1, classifier="logreg", embedder="tfidf")
    assert evaluate_model(ws, path) == {"n_eval": 0, "accuracy": None, "macro_f1": None}


# --- status -------------------------------------------------------------------------------


def test_pipeline_status_reports_the_loop_and_the_queue(pool_ws, settings, write_csv, truth):
    st = pipeline_status(pool_ws)
    assert st["next_iteration"] == 1 and not st["stopped"]
    assert st["queue"]["pending_items"] == 0 and st["queue"]["current_batch"] is None
    assert st["queue"]["new_labels_since_training"] == 0  # eval labels are not counted
    assert st["queue"]["outbox_batches"] == []

    _, batch = run_initial(pool_ws, settings)
    answer(pool_ws, write_csv, truth, batch[:2])
    st = pipeline_status(pool_ws)
    assert st["next_iteration"] == 2
    q = st["queue"]
    assert (q["pending_items"], q["current_batch"]) == (3, "batch-0001")
    assert q["outbox_batches"] == ["batch-0001"] and q["new_labels_since_training"] == 2
    assert q["inbox_waiting"] == 0
    assert st["labelled"] == 2 and st["eval_size"] == 9
