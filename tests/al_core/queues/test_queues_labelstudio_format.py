"""The Label Studio config and task JSON built for a batch."""

import xml.etree.ElementTree as ET

import pytest

from al_core.labels import LabelSet
from al_core.queues import REGISTRY, ExportBatch, ExportItem, FileQueue, label_config, to_ls_tasks


def _batch(model_version="m-3"):
    return ExportBatch(
        batch_id="it-0003",
        iteration=3,
        model_version=model_version,
        items=[
            ExportItem(id="007", text="Great phone", score=0.91, rank=1, predicted=["pos"]),
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
        "meta": {"batch_id": "it-0003", "rank": 1, "iteration": 3},
        "predictions": [
            {
                "model_version": "m-3",
                "score": 0.91,
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
    # NaN score is dropped (Label Studio rejects NaN); no predicted label -> empty result.
    assert tasks[1]["predictions"] == [{"model_version": "m-3", "result": []}]


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
    assert REGISTRY == {"file": FileQueue}
