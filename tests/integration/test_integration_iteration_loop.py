"""The iteration flow under a real Prefect test server, driven by a scripted annotator.

The annotator answers each exported batch through the file queue with gold TREC labels, in
three formats; one batch is only half answered at first, one label is changed later. At the
end the label history must hold exactly what the annotator sent, one event per answer.
"""

import json

import pandas as pd
import pytest

from al_core.ingest import ingest_file
from al_core.storage import Workspace, WorkspaceConfig
from tests.conftest import TREC, TREC_LABELS

pytestmark = pytest.mark.integration


@pytest.fixture
def loop_ws(tmp_path):
    train = pd.read_parquet(TREC / "train.parquet").iloc[:300].reset_index(drop=True)
    train["id"] = [f"q{i:04d}" for i in range(len(train))]
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    test = pd.read_parquet(TREC / "test.parquet").iloc[:100]
    test[["text", "label"]].to_csv(tmp_path / "eval.csv", index=False)
    cfg = WorkspaceConfig(labels=TREC_LABELS)
    cfg.active_learning.classifier = "logreg"
    cfg.active_learning.batch_size = 20
    cfg.active_learning.min_new_labels = 5
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")
    return ws, dict(zip(train.id, train.label, strict=True))


def _batch_ids(summary):
    return [t["data"]["id"] for t in json.loads(open(summary["batch"]).read())]


def _other(label):
    return next(lab for lab in TREC_LABELS if lab != label)


def test_file_queue_loop_keeps_every_answer(prefect_server, loop_ws):
    from flows.iteration import iteration_flow

    ws, gold = loop_ws
    inbox = ws.path / "queue" / "inbox"
    sent: list[tuple[str, str, str]] = []  # (id, label, annotator) in the order sent

    s1 = iteration_flow(str(ws.path))
    assert (s1["status"], s1["iteration"], s1["n_queried"]) == ("initial", 1, 20)
    batch1 = _batch_ids(s1)
    answers = [(i, gold[i], "alice") for i in batch1]
    pd.DataFrame(answers, columns=["id", "label", "annotator"]).to_csv(
        inbox / "round1.csv", index=False
    )
    sent += answers

    s2 = iteration_flow(str(ws.path))
    assert s2["status"] == "completed" and s2["n_labeled"] == 20
    assert s2["imported"][0]["new"] == 20
    assert 0 <= s2["accuracy"] <= 1
    batch2 = _batch_ids(s2)
    assert not set(batch2) & set(batch1)
    half, rest = batch2[:10], batch2[10:]
    # Half the batch answered, as a Label Studio JSON export.
    export = [
        {
            "id": 1000 + k,
            "data": {"id": i, "text": "..."},
            "annotations": [
                {
                    "id": 5000 + k,
                    "completed_by": {"email": "bob@example.com"},
                    "was_cancelled": False,
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [gold[i]]},
                        }
                    ],
                }
            ],
        }
        for k, i in enumerate(half)
    ]
    (inbox / "round2.json").write_text(json.dumps(export))
    sent += [(i, gold[i], "bob@example.com") for i in half]

    s3 = iteration_flow(str(ws.path))
    assert s3["imported"][0]["new"] == 10 and s3["n_labeled"] == 30
    batch3 = _batch_ids(s3)
    assert not set(batch3) & set(rest), "items still waiting in batch 2 were queried again"
    # Batch 3 answered as JSONL, the rest of batch 2 late, and one earlier label changed.
    changed_id = batch1[0]
    lines = [(i, gold[i], "carol") for i in batch3 + rest] + [
        (changed_id, _other(gold[changed_id]), "carol")
    ]
    (inbox / "round3.jsonl").write_text(
        "".join(json.dumps({"id": i, "label": lab, "annotator": a}) + "\n" for i, lab, a in lines)
    )
    sent += lines

    s4 = iteration_flow(str(ws.path))
    rep = s4["imported"][0]
    assert (rep["new"], rep["changed"], rep["rejected"]) == (30, 1, 0)
    assert s4["status"] == "completed" and s4["n_labeled"] == 60

    # No new labels: the next run says so and does not retrain.
    s5 = iteration_flow(str(ws.path))
    assert s5["status"] == "skipped" and "only 0 new labels" in s5["message"]

    history = ws.query(
        "SELECT id, labels, annotator FROM label_events WHERE source = 'queue' "
        "ORDER BY created_at, event_id"
    )
    got = [
        (i, lab[0], a)
        for i, lab, a in zip(history.id, history.labels, history.annotator, strict=True)
    ]
    assert sorted(got) == sorted(sent)
    assert len(got) == len(sent) == 61
    current = ws.query("SELECT labels FROM current_labels WHERE id = ?", [changed_id])
    assert list(current.labels[0]) == [_other(gold[changed_id])]
    assert ws.scalar("SELECT count(*) FROM quarantine") == 0
    # Every exported item and its batch are in the query log; answered items point to it.
    log = ws.query(
        "SELECT batch_id, count(*) AS n FROM query_log GROUP BY batch_id ORDER BY batch_id"
    )
    assert log.batch_id.tolist() == [f"batch-000{k}" for k in range(1, 5)]
    linked = ws.query(
        "SELECT count(*) AS n FROM label_events WHERE source = 'queue' AND batch_id IS NOT NULL"
    ).n[0]
    assert linked == 61
    assert sorted(p.name for p in (inbox / "imported").iterdir()) == [
        "round1.csv",
        "round2.json",
        "round3.jsonl",
    ]


def test_rerun_of_crashed_iteration_adopts_the_exported_batch(prefect_server, loop_ws):
    """A run that exported its batch but died before recording it is redone without change."""
    from al_core.pipeline import plan_iteration, resolve_settings, select_batch
    from flows.iteration import iteration_flow

    ws, gold = loop_ws
    first = iteration_flow(str(ws.path))
    pd.DataFrame([(i, gold[i]) for i in _batch_ids(first)], columns=["id", "label"]).to_csv(
        ws.path / "queue" / "inbox" / "a.csv", index=False
    )
    # Simulate the crash: run the steps up to the export of iteration 2, without recording.
    from al_core.pipeline import export_selection, import_queue, queue_for, train_model

    settings = resolve_settings(ws)
    import_queue(ws, queue_for(ws))
    plan = plan_iteration(ws, settings)
    model = train_model(ws, plan.iteration, classifier="logreg", embedder="tfidf")
    exported = export_selection(
        ws, plan.iteration, select_batch(ws, plan.iteration, model, settings)
    )
    before = open(exported).read()
    # Another label arrives meanwhile, which would change a fresh query.
    pool_ids = set(ws.query("SELECT id FROM pool WHERE role = 'pool'").id)
    extra = sorted(pool_ids - set(_batch_ids(first)) - set(json.loads(before)[0]["data"]["id"]))[0]
    pd.DataFrame([(extra, gold[extra])], columns=["id", "label"]).to_csv(
        ws.path / "queue" / "inbox" / "b.csv", index=False
    )
    rerun = iteration_flow(str(ws.path))
    assert rerun["iteration"] == 2 and rerun["status"] == "completed"
    assert open(rerun["batch"]).read() == before  # adopted, not re-queried
    assert ws.scalar("SELECT count(*) FROM query_log WHERE iteration = 2") == 20
    assert ws.scalar("SELECT count(*) FROM iterations WHERE iteration = 2") == 1
    assert ws.scalar("SELECT count(*) FROM label_events WHERE source = 'queue'") == 21


def test_default_setup_embeds_each_text_once(prefect_server, tmp_path):
    """The default classifier (embedding head on cached MiniLM vectors) through two rounds."""
    from flows.iteration import iteration_flow

    train = pd.read_parquet(TREC / "train.parquet").iloc[:80].reset_index(drop=True)
    train["id"] = [f"d{i:03d}" for i in range(len(train))]
    train[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    cfg = WorkspaceConfig(labels=TREC_LABELS)
    cfg.active_learning.batch_size = 30
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    gold = dict(zip(train.id, train.label, strict=True))
    first = iteration_flow(str(ws.path))
    ids = _batch_ids(first)
    pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(
        ws.path / "queue" / "inbox" / "a.csv", index=False
    )
    second = iteration_flow(str(ws.path))
    assert second["status"] == "completed" and second["classifier"] == "embedding-logreg"
    assert second["embedding"]["embedded"] == 80 and second["embedder"] == "minilm"
    tasks = json.loads(open(second["batch"]).read())
    assert len(tasks) == 30 and tasks[0]["predictions"][0]["model_version"].startswith("iter-0002")
    ids = _batch_ids(second)
    pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(
        ws.path / "queue" / "inbox" / "b.csv", index=False
    )
    third = iteration_flow(str(ws.path))
    assert third["status"] == "completed" and third["embedding"]["embedded"] == 0


def test_keep_models_prunes_older_weights_after_each_round(prefect_server, loop_ws):
    """With ``keep_models = 1`` each round leaves only its own model's weights on disk."""
    from flows.iteration import iteration_flow

    ws, gold = loop_ws
    ws.config.active_learning.keep_models = 1
    ws.save_config()
    summaries = []
    for k in range(3):
        summaries.append(iteration_flow(str(ws.path)))
        ids = _batch_ids(summaries[-1])
        pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(
            ws.path / "queue" / "inbox" / f"round{k}.csv", index=False
        )
    initial, second, third = summaries
    assert "pruned" not in initial  # no model yet
    assert second["pruned"]["models_pruned"] == [] and "prune" in second["timings"]
    assert third["status"] == "completed"
    assert third["pruned"]["models_pruned"] == ["iter-0002"]
    assert third["pruned"]["models_kept"] == ["iter-0003"]
    models = ws.path / "models"
    assert not (models / "iter-0002" / "model").exists()
    assert (models / "iter-0002" / "meta.json").is_file()
    assert (models / "iter-0003" / "model" / "model.json").is_file()
