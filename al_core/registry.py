"""Name -> class maps of every plug-in kind, for configuration (CLI flags, flow parameters).

Each subpackage owns its ``REGISTRY``; this module only gathers them, describes them for
``alflow list`` and builds instances from names with a clear error for unknown ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from al_core.errors import ConfigError

KINDS = ("strategies", "classifiers", "embedders", "stopping", "initializers", "queues")
_SINGULAR = {
    "strategies": "strategy",
    "classifiers": "classifier",
    "embedders": "embedder",
    "stopping": "stopping criterion",
    "initializers": "initializer",
    "queues": "queue",
}


def registry(kind: str) -> dict[str, type]:
    if kind == "strategies":
        from al_core.query import REGISTRY
    elif kind == "classifiers":
        from al_core.classifiers import REGISTRY
    elif kind == "embedders":
        from al_core.embeddings import REGISTRY
    elif kind == "stopping":
        from al_core.stopping import REGISTRY
    elif kind == "initializers":
        from al_core.initialization import REGISTRY
    elif kind == "queues":
        from al_core.queues import REGISTRY
    else:
        raise ConfigError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    return REGISTRY


def lookup(kind: str, name: str) -> type:
    """The class registered as ``name``; a classifier may be a spec with options
    (``"transformer:epochs=4"``, see :mod:`al_core.classifiers.spec`), checked here."""
    reg = registry(kind)
    options: dict[str, Any] = {}
    if kind == "classifiers":
        name, options = _classifier_spec(name)
    if name not in reg:
        raise ConfigError(f"unknown {_SINGULAR[kind]} {name!r}; choose one of {', '.join(reg)}")
    if options:
        from al_core.classifiers.spec import check_options

        try:
            check_options(reg[name], options)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return reg[name]


def _classifier_spec(spec: str) -> tuple[str, dict[str, Any]]:
    from al_core.classifiers.spec import parse_classifier_spec

    try:
        return parse_classifier_spec(spec)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def describe(kind: str) -> list[dict[str, Any]]:
    """One dict per registered name: ``name``, ``description`` and kind-specific facts."""
    rows = []
    for name, cls in registry(kind).items():
        row: dict[str, Any] = {"name": name, "description": cls.description}
        if kind == "strategies":
            row["needs"] = list(cls.needs)
            row["label_types"] = list(cls.label_types)
        elif kind == "classifiers":
            row["default_embedder"] = cls.default_embedder
            row["input_kind"] = cls.input_kind
            row["label_types"] = ["single", "multi"] if cls.supports_multi_label else ["single"]
        elif kind == "embedders":
            row["cacheable"] = cls.cacheable
            row["dense"] = cls.dense
        elif kind == "initializers":
            row["needs_labels"] = cls.needs_labels
        rows.append(row)
    return rows


def make_strategy(name: str, **params: Any):
    """A strategy by name; ``"wrapper:base"`` (e.g. ``seals:badge``) wraps a base strategy."""
    from al_core.query import make_strategy as build

    for part in name.split(":"):
        lookup("strategies", part)  # unknown names -> ConfigError naming the choices
    try:
        return build(name, **params)
    except ValueError as err:
        raise ConfigError(str(err)) from err


def check_strategy_fits(strategy: str, classifier: str, label_types: set[str]) -> Any:
    """Build ``strategy`` (``wrapper:base`` too) and check it can run with ``classifier``.

    Raises :class:`ConfigError` when the strategy supports none of ``label_types`` or needs a
    capability (:data:`al_core.query.NEEDS`) the classifier class lacks; returns the strategy.
    """
    from al_core.query import NEEDS

    built = make_strategy(strategy)
    clf_cls = lookup("classifiers", classifier)
    if not label_types & set(built.label_types):
        kinds = "/".join(sorted(label_types))
        raise ConfigError(f"strategy {strategy!r} does not support {kinds}-label data")
    for need in built.needs:
        attr = NEEDS.get(need)
        if attr and not callable(getattr(clf_cls, attr, None)):
            raise ConfigError(
                f"strategy {strategy!r} needs {need} ({attr}), which classifier "
                f"{classifier!r} does not provide; `alflow list strategies` says what each needs"
            )
    return built


def make_initializer(name: str):
    return lookup("initializers", name)()


def make_classifier(name: str, num_classes: int, multi_label: bool = False, seed: int | None = 0):
    """A classifier from its name or spec (``"setfit:max_pairs=1000"``)."""
    cls = lookup("classifiers", name)
    _, options = _classifier_spec(name)
    return cls(num_classes=num_classes, multi_label=multi_label, seed=seed, **options)


def resolve_embedder_name(classifier: str, embedder: str | None) -> str:
    """The embedder a classifier uses: the one given, else the classifier's default."""
    if embedder:
        return embedder
    default = lookup("classifiers", classifier).default_embedder
    if default is None:
        raise ConfigError(f"classifier {classifier!r} reads texts and needs no embedder")
    return default


def make_embedder(name: str):
    """A registered embedder name, or a local sentence-transformers model folder."""
    if name in registry("embedders"):
        return lookup("embedders", name)()
    if Path(name).expanduser().is_dir():
        from al_core.embeddings import SentenceEmbedder

        return SentenceEmbedder(model=name)
    return lookup("embedders", name)()  # raises the unknown-name error


def make_stopping(
    spec: str,
    *,
    num_classes: int,
    max_iterations: int = 50,
    kappa: float = 0.99,
    params: dict[str, dict[str, Any]] | None = None,
):
    """A stopping criterion from its configuration text (see :mod:`al_core.stopping.spec`).

    ``max_iterations`` and ``kappa`` are the defaults of those two criteria; ``params`` maps
    criterion names to further parameter defaults. Values written in ``spec`` win.
    """
    from al_core.stopping import build_criterion

    defaults: dict[str, dict[str, Any]] = {
        "max-iterations": {"max_iterations": max_iterations},
        "kappa-average": {"kappa": kappa},
    }
    for name, values in (params or {}).items():
        defaults[name] = {**defaults.get(name, {}), **values}
    return build_criterion(spec, num_classes=num_classes, defaults=defaults)
