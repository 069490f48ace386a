"""A multi-label workspace goes through the same loop (random strategy, logreg one-vs-rest)."""

import json
import random

import pandas as pd
import pytest

from al_core.ingest import ingest_file
from al_core.storage import Workspace, WorkspaceConfig

pytestmark = pytest.mark.integration

WORDS = {
    "sport": ["match", "goal", "team", "coach", "league"],
    "money": ["bank", "market", "stock", "price", "profit"],
    "tech": ["software", "chip", "laptop", "code", "robot"],
}


def _texts(n, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topics = rng.sample(sorted(WORDS), rng.choice([1, 1, 2]))
        words = [w for t in topics for w in rng.sample(WORDS[t], 3)]
        rng.shuffle(words)
        rows.append({"id": f"m{i:03d}", "text": " ".join(words), "topics": "|".join(topics)})
    return pd.DataFrame(rows)


def test_multi_label_loop(prefect_server, tmp_path):
    from flows.iteration import iteration_flow

    pool = _texts(120)
    pool[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    evals = _texts(40, seed=1).assign(id=lambda d: "e" + d.id)
    evals.rename(columns={"topics": "label"}).to_csv(tmp_path / "eval.csv", index=False)
    cfg = WorkspaceConfig(labels=sorted(WORDS), multi_label=True)
    cfg.active_learning.classifier = "logreg"
    cfg.active_learning.strategy = "random"
    cfg.active_learning.batch_size = 30
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    ingest_file(ws, tmp_path / "eval.csv", role="eval")
    gold = dict(zip(pool.id, pool.topics, strict=True))

    first = iteration_flow(str(ws.path))
    ids = [t["data"]["id"] for t in json.loads(open(first["batch"]).read())]
    pd.DataFrame({"id": ids, "label": [gold[i] for i in ids]}).to_csv(
        ws.path / "queue" / "inbox" / "answers.csv", index=False
    )
    second = iteration_flow(str(ws.path))
    assert second["status"] == "completed" and second["n_labeled"] == 30
    # Measured 0.375 subset accuracy and 0.63 macro-F1 with 30 labels; predicting nothing
    # scores 0 on both.
    assert second["accuracy"] > 0.2 and second["macro_f1"] > 0.5
    stored = ws.query("SELECT id, labels FROM current_labels")
    assert {
        i: "|".join(sorted(v))
        for i, v in zip(stored.id, stored.labels, strict=True)
        if i.startswith("m")
    } == {i: "|".join(sorted(gold[i].split("|"))) for i in ids}
    tasks = json.loads(open(second["batch"]).read())
    choices = tasks[0]["predictions"][0]["result"][0]["value"]["choices"]
    assert set(choices) <= set(WORDS)


def test_iterations_publish_artifacts_for_the_prefect_ui(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.iteration import iteration_flow

    pool = _texts(40)
    pool[["id", "text"]].to_csv(tmp_path / "pool.csv", index=False)
    cfg = WorkspaceConfig(labels=sorted(WORDS), multi_label=True)
    cfg.active_learning.strategy = "random"
    cfg.active_learning.classifier = "logreg"
    ws = Workspace.init(tmp_path / "ws", cfg)
    ingest_file(ws, tmp_path / "pool.csv")
    state = iteration_flow(str(ws.path), return_state=True)
    assert state.is_completed()
    from al_core.pipeline import workspace_key

    key = workspace_key(ws.uri)  # artifact keys are per workspace
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"{key}-iteration"]))
        )
    mine = [a for a in arts if a.flow_run_id == state.state_details.flow_run_id]
    assert len(mine) == 1 and mine[0].type == "markdown"
    assert f"{key}: iteration 1 initial" in mine[0].data
