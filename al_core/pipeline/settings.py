"""The active-learning settings of one run: the workspace's defaults with overrides, validated."""

from __future__ import annotations

import dataclasses
from typing import Any

from al_core.errors import ConfigError
from al_core.pipeline.stopping import make_criteria
from al_core.registry import check_strategy_fits, lookup, resolve_embedder_name
from al_core.storage import ActiveLearningSettings, Workspace


def resolve_settings(ws: Workspace, **overrides: Any) -> ActiveLearningSettings:
    """The workspace's settings with the non-None ``overrides`` applied, validated."""
    base = dataclasses.asdict(ws.config.active_learning)
    base.update({k: v for k, v in overrides.items() if v is not None})
    settings = ActiveLearningSettings(**base)
    classifier = lookup("classifiers", settings.classifier)
    if classifier.input_kind == "texts":  # it tokenizes the texts itself
        if overrides.get("embedder"):
            raise ConfigError(
                f"classifier {settings.classifier!r} reads texts itself; do not set an embedder"
            )
        settings.embedder = None
    else:
        settings.embedder = resolve_embedder_name(settings.classifier, settings.embedder)
    label_type = "multi" if ws.config.multi_label else "single"
    check_strategy_fits(settings.strategy, settings.classifier, {label_type})
    lookup("initializers", settings.initializer)
    make_criteria(settings, len(ws.config.labels))  # an unknown or malformed criterion fails here
    if settings.batch_size < 1:
        raise ConfigError("batch_size must be at least 1")
    if settings.partition_rows < 1:
        raise ConfigError("partition_rows must be at least 1")
    if settings.keep_models is not None and settings.keep_models < 1:
        raise ConfigError("keep_models must be at least 1 (or null to keep every model)")
    return settings
