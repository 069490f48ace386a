"""The Label Studio config and task JSON built for a batch."""

import xml.etree.ElementTree as ET

import pytest

from al_core.labels import LabelSet
from al_core.queues import (
    REGISTRY,
    ExportBatch,
    ExportItem,
    FileQueue,
    LabelStudioQueue,
    from_ls_tasks,
    label_config,
    to_ls_tasks,
)


def _batch(model_version="m-3"):
    return ExportBatch(
        batch_id="it-0003",
        iteration=3,
        model_version=model_version,
        items=[
            ExportItem(
                id="007", text="Great phone", score=0.91, rank=1, predicted=["pos"], confidence=0.8
            ),
            ExportItem(id="42", text="Meh", score=float("nan"), rank=2, predicted=None),
        ],
    )


def test_label_config_is_xml_with_escaped_choices():
    xml = label_config(LabelSet(["pos", 'say "hi" & <bye>', "it's"]))
    root = ET.fromstring(xml)
    choices = root.find("Choices")
    assert root.find("Text").attrib == {"name": "text", "value": "$text"}
    assert choices.attrib == {"name": "label", "toName": "text", "choice": "single-radio"}
    assert [c.attrib["value"] for c in choices] == ["pos", 'say "hi" & <bye>', "it's"]


def test_label_config_multi_label():
    root = ET.fromstring(label_config(LabelSet(["a", "b"], multi_label=True)))
    assert root.find("Choices").attrib["choice"] == "multiple"


def test_to_ls_tasks_with_predictions():
    tasks = to_ls_tasks(_batch())
    assert tasks[0] == {
        "data": {"id": "007", "alflow_id": "007", "text": "Great phone"},
        "meta": {"batch_id": "it-0003", "rank": 1, "iteration": 3, "query_score": 0.91},
        "predictions": [
            {
                "model_version": "m-3",
                "score": 0.8,
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["pos"]},
                    }
                ],
            }
        ],
    }
    # The prediction's score is the model's confidence (Label Studio sorts on it); the query
    # score is metadata. NaN is dropped (Label Studio rejects NaN); no label -> empty result.
    assert tasks[1]["predictions"] == [{"model_version": "m-3", "result": []}]
    assert "query_score" not in tasks[1]["meta"]


def test_from_ls_tasks_inverts_to_ls_tasks():
    for version in ("m-3", None):
        tasks = to_ls_tasks(_batch(version))
        again = from_ls_tasks("it-0003", tasks)
        assert again.model_version == version and again.iteration == 3
        assert to_ls_tasks(again) == tasks


def test_to_ls_tasks_without_model_has_no_predictions():
    tasks = to_ls_tasks(_batch(model_version=None))
    assert all("predictions" not in t for t in tasks)
    assert [t["meta"]["rank"] for t in tasks] == [1, 2]


def test_batch_rejects_duplicate_ids_and_empty_ids():
    with pytest.raises(ValueError, match="twice"):
        ExportBatch("b", 1, None, [ExportItem("1", "a", None, 1), ExportItem("1", "b", None, 2)])
    with pytest.raises(ValueError, match="non-empty"):
        ExportItem(" ", "a", None, 1)


def test_registry():
    assert REGISTRY == {"file": FileQueue, "label-studio": LabelStudioQueue}
