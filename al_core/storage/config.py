"""The workspace configuration file (``alflow.json``).

It fixes what cannot change once data is stored (the label set, single- or multi-label) and
holds defaults that the CLI and the pipeline read (columns, limits, the active-learning setup).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from al_core.errors import ConfigError
from al_core.labels import LabelSet
from al_core.labels.policy import LABEL_POLICIES

CONFIG_NAME = "alflow.json"
CONFIG_VERSION = 1


@dataclass
class ActiveLearningSettings:
    """Defaults for one active-learning iteration; CLI flags and flow parameters override them."""

    classifier: str = "embedding-logreg"
    embedder: str | None = None  # None: the classifier's default embedder
    strategy: str = "breaking-ties"  # best AUC on TREC-6 (benchmarks/results/simulate_trec.json)
    initializer: str = "random"
    batch_size: int = 25
    min_new_labels: int = 10
    max_iterations: int = 50  # default of max-iterations: query rounds after the first model
    # Stopping criteria as text (al_core/stopping/spec.py), e.g. "label-budget(budget=500)" or
    # "any(delta-f,kappa-average)"; the loop stops when any entry says stop.
    stopping: list[str] = field(default_factory=lambda: ["max-iterations", "kappa-average"])
    kappa: float = 0.99  # default threshold of kappa-average
    # Further parameter defaults by criterion name, e.g. {"label-budget": {"budget": 500}}.
    stopping_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopping_set_size: int = 1000
    seed: int = 0
    # Embedding and scoring of the pool run as partitions of about this many items, mapped
    # over the flow's task runner: local threads, or the Dask cluster at ``dask_address``
    # (``tcp://host:8786``, or ``local`` for a two-worker cluster on this machine).
    partition_rows: int = 131_072
    dask_address: str | None = None
    # Keep the weights of only the newest N models (older iterations keep meta.json and
    # selection.json); None keeps them all. See al_core/pipeline/retention.py.
    keep_models: int | None = None


QUEUE_KINDS = ("file", "label-studio")


@dataclass
class QueueSettings:
    """Where batches go and labels come from: the file queue (default) or a Label Studio server.

    The API token itself is never stored here: ``token_env`` names the environment variable
    that holds it, ``token_block`` (optional) a Prefect Secret block tried when that variable
    is unset. ``project_id`` is filled in when alflow creates the project.
    """

    kind: str = "file"
    url: str | None = None
    project_id: int | None = None
    project_title: str | None = None
    token_env: str = "LABEL_STUDIO_API_KEY"
    token_block: str | None = None
    timeout_s: float = 30.0
    retries: int = 4

    def __post_init__(self) -> None:
        if self.kind not in QUEUE_KINDS:
            raise ConfigError(f"unknown queue kind {self.kind!r}; choose one of {QUEUE_KINDS}")
        if self.kind == "label-studio":
            if not self.url or not str(self.url).startswith(("http://", "https://")):
                raise ConfigError(f"a label-studio queue needs an http(s) URL, got {self.url!r}")
        if self.timeout_s <= 0:
            raise ConfigError("queue timeout_s must be positive")
        if self.retries < 0:
            raise ConfigError("queue retries must be 0 or more")


@dataclass
class WorkspaceConfig:
    labels: list[str]
    multi_label: bool = False
    text_column: str = "text"
    id_column: str = "id"
    label_column: str = "label"
    label_separator: str = "|"
    max_text_chars: int = 20_000
    label_policy: str = "latest"
    active_learning: ActiveLearningSettings = field(default_factory=ActiveLearningSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    version: int = CONFIG_VERSION

    def __post_init__(self) -> None:
        try:
            LabelSet(self.labels, self.multi_label)
        except ValueError as exc:
            raise ConfigError(f"invalid label set: {exc}") from None
        if self.label_policy not in LABEL_POLICIES:
            raise ConfigError(
                f"unknown label policy {self.label_policy!r}; choose one of {LABEL_POLICIES}"
            )
        if self.max_text_chars < 1:
            raise ConfigError("max_text_chars must be at least 1")
        for name in self.labels:
            if self.multi_label and self.label_separator in name:
                raise ConfigError(f"label {name!r} contains the separator {self.label_separator!r}")

    @property
    def label_set(self) -> LabelSet:
        return LabelSet(self.labels, self.multi_label)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkspaceConfig:
        data = dict(data)
        if data.get("version", CONFIG_VERSION) > CONFIG_VERSION:
            raise ConfigError(
                f"workspace config version {data['version']} is newer than this alflow "
                f"understands ({CONFIG_VERSION}); upgrade alflow"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown keys in {CONFIG_NAME}: {', '.join(sorted(unknown))}")
        al = data.pop("active_learning", {}) or {}
        al_known = {f.name for f in dataclasses.fields(ActiveLearningSettings)}
        bad = set(al) - al_known
        if bad:
            raise ConfigError(f"unknown active_learning keys: {', '.join(sorted(bad))}")
        queue = data.pop("queue", {}) or {}
        queue_known = {f.name for f in dataclasses.fields(QueueSettings)}
        bad = set(queue) - queue_known
        if bad:
            raise ConfigError(f"unknown queue keys: {', '.join(sorted(bad))}")
        try:
            return cls(
                active_learning=ActiveLearningSettings(**al), queue=QueueSettings(**queue), **data
            )
        except TypeError as exc:
            raise ConfigError(f"invalid {CONFIG_NAME}: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> WorkspaceConfig:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path} not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a JSON object")
        return cls.from_dict(data)
