"""Label Studio's labelling config and task JSON for alflow batches.

A batch becomes a list of Label Studio tasks that can be imported as-is (file upload or REST).
Each task's ``data`` carries our item id twice: as ``id`` and as ``alflow_id``. Label Studio's
JSON-MIN export flattens ``data`` into the top level, where its own task ``id`` takes the ``id``
key; ``alflow_id`` survives that, so labels from either export map back to our items.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from al_core.labels import LabelSet
from al_core.queues.base import ExportBatch, ExportItem

FROM_NAME = "label"  # name of the <Choices> control; the key of the label in JSON-MIN exports
TO_NAME = "text"  # name of the <Text> object tag and of the task's text field
ID_FIELD = "alflow_id"
NOTE_FIELD = "alflow_note"  # a note for annotators (a review batch's votes), a data column


def label_config(label_set: LabelSet) -> str:
    """The Label Studio labelling config (XML) for classifying texts into ``label_set``."""
    choice = "multiple" if label_set.multi_label else "single-radio"
    lines = [
        "<View>",
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>',
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="{choice}">',
        *(f"    <Choice value={quoteattr(name)}/>" for name in label_set.names),
        "  </Choices>",
        "</View>",
    ]
    return "\n".join(lines) + "\n"


def choices_result(labels: list[str]) -> list[dict[str, Any]]:
    """A Label Studio ``result`` list selecting ``labels`` in our config (empty: none)."""
    if not labels:
        return []
    return [
        {
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "choices",
            "value": {"choices": [str(label) for label in labels]},
        }
    ]


def to_ls_tasks(batch: ExportBatch) -> list[dict[str, Any]]:
    """One Label Studio task per item of ``batch``, in rank order as given.

    The model's predicted labels go in as a prediction (a pre-annotation) when the batch has a
    ``model_version``; its ``score`` is the model's confidence in them (Label Studio sorts and
    filters on it). The query strategy's score goes in the task's ``meta`` as
    ``query_score``. Before the first model there are no predictions.
    """
    tasks: list[dict[str, Any]] = []
    for item in batch.items:
        meta: dict[str, Any] = {
            "batch_id": batch.batch_id,
            "rank": int(item.rank),
            "iteration": int(batch.iteration),
        }
        if item.score is not None:
            meta["query_score"] = float(item.score)
        task: dict[str, Any] = {
            "data": {"id": item.id, ID_FIELD: item.id, TO_NAME: item.text},
            "meta": meta,
        }
        if item.note is not None:
            task["data"][NOTE_FIELD] = item.note
        if batch.model_version is not None:
            prediction: dict[str, Any] = {"model_version": str(batch.model_version)}
            if item.confidence is not None:
                prediction["score"] = float(item.confidence)
            prediction["result"] = choices_result(list(item.predicted or []))
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def from_ls_tasks(batch_id: str, tasks: list[dict[str, Any]]) -> ExportBatch:
    """The :class:`ExportBatch` that :func:`to_ls_tasks` turned into ``tasks`` (its inverse).

    Used to send a recorded batch again exactly as it was first exported.
    """
    items = []
    version = None
    iteration = 0
    for rank, task in enumerate(tasks):
        meta = task.get("meta") or {}
        iteration = int(meta.get("iteration", iteration))
        prediction = (task.get("predictions") or [None])[0]
        predicted = confidence = None
        if prediction is not None:
            version = prediction.get("model_version", version)
            confidence = prediction.get("score")
            chosen = [
                label
                for r in prediction.get("result", [])
                for label in (r.get("value") or {}).get("choices", [])
            ]
            predicted = chosen
        items.append(
            ExportItem(
                id=str(task["data"][ID_FIELD]),
                text=task["data"][TO_NAME],
                score=meta.get("query_score"),
                rank=int(meta.get("rank", rank)),
                predicted=predicted,
                confidence=confidence,
                note=task["data"].get(NOTE_FIELD),
            )
        )
    return ExportBatch(batch_id=batch_id, iteration=iteration, model_version=version, items=items)
