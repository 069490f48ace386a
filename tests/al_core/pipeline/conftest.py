"""Shared fixtures of the pipeline tests: a small three-topic workspace and label-file writers.

The workspace holds 60 pool texts (ids ``p00``..``p59``, 20 per topic, unlabelled) and 9
labelled evaluation texts (``e0``..``e8``). Texts of a topic share words, so TF-IDF + logistic
regression learns them from a handful of labels in milliseconds.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

LABELS = ("sport", "tech", "food")
WORDS = {
    "sport": ["goal", "match", "team", "score", "coach", "league", "striker", "referee"],
    "tech": ["laptop", "software", "chip", "network", "code", "server", "robot", "cloud"],
    "food": ["pasta", "recipe", "bread", "cheese", "soup", "oven", "garlic", "dessert"],
}
N_POOL = 60
N_EVAL = 9


def topic_of(item_id: str) -> str:
    """The true topic of a pool (``pNN``) or eval (``eN``) id."""
    return LABELS[int(item_id[1:]) % len(LABELS)]


def _text(topic: str, k: int, extra: str) -> str:
    words = WORDS[topic]
    picked = [words[(k + j * 3) % len(words)] for j in range(4)]
    return f"{' '.join(picked)} {extra}{k}"


POOL_IDS = [f"p{k:02d}" for k in range(N_POOL)]
EVAL_IDS = [f"e{k}" for k in range(N_EVAL)]


@pytest.fixture(scope="session")
def _pool_template(tmp_path_factory) -> Path:
    """The workspace built once per session; each test gets a copy (ingest runs GX checks)."""
    from al_core.ingest import ingest_file
    from al_core.storage import Workspace, WorkspaceConfig

    root = tmp_path_factory.mktemp("pool-template")
    ws = Workspace.init(root / "ws", WorkspaceConfig(labels=list(LABELS)))
    al = ws.config.active_learning
    al.classifier = "logreg"
    al.embedder = "tfidf"
    al.batch_size = 5
    al.min_new_labels = 3
    al.stopping = ["max-iterations", "kappa-average"]
    al.stopping_set_size = 20
    ws.save_config()
    src = root / "src"
    src.mkdir()
    with open(src / "pool.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in POOL_IDS:
            w.writerow([i, _text(topic_of(i), int(i[1:]), "pool")])
    with open(src / "eval.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        for i in EVAL_IDS:
            w.writerow([i, _text(topic_of(i), int(i[1:]) + 100, "eval"), topic_of(i)])
    ingest_file(ws, src / "pool.csv")
    ingest_file(ws, src / "eval.csv", role="eval")
    return ws.path


@pytest.fixture
def pool_ws(_pool_template, tmp_path):
    """A fresh copy of the small workspace described in the module docstring."""
    from al_core.storage import Workspace

    shutil.copytree(_pool_template, tmp_path / "ws")
    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def truth() -> Callable[[str], str]:
    """The true topic of an id (pool ``pNN`` or eval ``eN``)."""
    return topic_of


@pytest.fixture
def label_dir(tmp_path) -> Path:
    path = tmp_path / "labels"
    path.mkdir()
    return path


@pytest.fixture
def write_csv(label_dir) -> Callable[..., Path]:
    """``write_csv(name, [(id, label[, annotator]), ...])``: a CSV label file."""

    def write(name: str, rows: Iterable[tuple], header=("id", "label", "annotator")) -> Path:
        path = label_dir / name
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for row in rows:
                w.writerow(list(row) + ["ann"] * (len(header) - len(row)))
        return path

    return write


@pytest.fixture
def write_jsonl(label_dir) -> Callable[..., Path]:
    """``write_jsonl(name, [dict, ...])``: a JSON-lines label file."""

    def write(name: str, objects: Iterable[dict]) -> Path:
        path = label_dir / name
        path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
        return path

    return write


def ls_task(item_id: str, annotations: list[tuple[int, str | None, str]]) -> dict:
    """A Label Studio task of the full JSON export; ``(annotation id, label|None, email)``."""
    anns = []
    for ann_id, label, who in annotations:
        result = (
            []
            if label is None
            else [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [label]},
                }
            ]
        )
        anns.append({"id": ann_id, "completed_by": {"email": who}, "result": result})
    return {
        "id": 1000 + int(item_id[1:]),
        "data": {"id": item_id, "alflow_id": item_id, "text": "t"},
        "annotations": anns,
    }


@pytest.fixture
def write_ls(label_dir) -> Callable[..., Path]:
    """``write_ls(name, {id: [(annotation id, label|None, email), ...]})``: a full LS export."""

    def write(name: str, tasks: dict[str, list[tuple[int, str | None, str]]]) -> Path:
        path = label_dir / name
        path.write_text(json.dumps([ls_task(i, a) for i, a in tasks.items()]), encoding="utf-8")
        return path

    return write


@pytest.fixture
def snapshot() -> Callable:
    """Every table's rows as JSON, to prove an operation changed nothing."""
    from al_core.storage.schema import TABLES

    def snap(ws) -> dict[str, str]:
        con = ws.connect()
        try:
            return {
                t: con.execute(f"SELECT * FROM {t}").df().to_json(date_format="iso") for t in TABLES
            }
        finally:
            con.close()

    return snap
