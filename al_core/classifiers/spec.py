"""Classifier specs: a registry name with optional hyperparameters, as one string.

``"transformer"`` or ``"transformer:model=/models/bert,epochs=4,warm_start=true"``. Values are
read as JSON scalars where they parse (``4``, ``0.5``, ``true``, ``null``), else kept as
strings (paths). Lists are written with ``|``: ``filter_sizes=3|4|5``. The same string works
everywhere a classifier is named: ``alflow simulate --classifier``, ``alflow iterate
--classifier`` and ``active_learning.classifier`` in the workspace's ``alflow.json``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

_RESERVED = ("self", "num_classes", "multi_label", "seed")


def _value(text: str) -> Any:
    if "|" in text:
        return [_value(part) for part in text.split("|")]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_classifier_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``(name, options)`` of a spec string; raises ValueError on a malformed option."""
    name, _, rest = str(spec).partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                f"classifier option {item!r} in {spec!r} is not key=value "
                "(e.g. 'transformer:model=/path/to/model,epochs=4')"
            )
        options[key.strip()] = _value(value.strip())
    return name.strip(), options


def check_options(cls: type, options: dict[str, Any]) -> None:
    """Raise ValueError naming the options ``cls``'s constructor does not take."""
    params = inspect.signature(cls.__init__).parameters
    known = [
        p for p in params if p not in _RESERVED and params[p].kind is not params[p].VAR_KEYWORD
    ]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"classifier {cls.name!r} has no option {', '.join(map(repr, unknown))}; "
            f"its options are {', '.join(known)}"
        )
