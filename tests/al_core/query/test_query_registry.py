"""The query package exports and registry."""

from __future__ import annotations

import al_core.query as query


def test_registry_names() -> None:
    assert set(query.REGISTRY) == {
        "random",
        "least-confidence",
        "prediction-entropy",
        "breaking-ties",
        "bald",
        "embedding-kmeans",
        "greedy-coreset",
        "lightweight-coreset",
        "prob-cover",
        "contrastive-active-learning",
        "badge",
        "discriminative-active-learning",
        "discriminative-representation-learning",
        "expected-gradient-length",
        "expected-gradient-length-max-word",
        "expected-gradient-length-layer",
        "category-vector-inconsistency-and-ranking",
        "label-cardinality-inconsistency",
        "adaptive-active-learning",
        "class-balancer",
        "seals",
        "anchor-subsampling",
        "random-subsampling",
        "typiclust",
        "cluster-margin",
        "diverse-mini-batch",
        "information-density",
    }
    for name, cls in query.REGISTRY.items():
        assert cls.name == name
        assert issubclass(cls, query.QueryStrategy)


def test_exports() -> None:
    for name in query.__all__:
        assert hasattr(query, name), name
    for name in ("QueryResult", "StrategyRequirementError", "LabelTypeError"):
        assert name in query.__all__


def test_repr_shows_parameters() -> None:
    assert repr(query.LeastConfidence(chunk_size=16)) == "LeastConfidence(chunk_size=16)"
    assert repr(query.RandomSampling()) == "RandomSampling()"


def test_make_strategy_composes_wrappers() -> None:
    import pytest

    from al_core.errors import ConfigError
    from al_core.registry import make_strategy

    seals = make_strategy("seals:badge", k=7)
    assert isinstance(seals, query.SEALS) and isinstance(seals.base, query.BADGE)
    assert seals.k == 7
    assert isinstance(make_strategy("class-balancer").base, query.BreakingTies)
    with pytest.raises(ConfigError, match="unknown strategy 'nope'"):
        make_strategy("seals:nope")
    with pytest.raises(ConfigError, match="not a wrapper"):
        make_strategy("badge:random")


def test_describe_lists_needs_and_label_types() -> None:
    from al_core.registry import describe

    rows = {r["name"]: r for r in describe("strategies")}
    assert rows["badge"]["needs"] == ["probabilities", "embeddings"]
    assert rows["bald"]["needs"] == ["mc-dropout"]
    assert rows["prob-cover"]["needs"] == ["embeddings", "index"]
    assert rows["label-cardinality-inconsistency"]["label_types"] == ["multi"]
    assert rows["typiclust"]["label_types"] == ["single", "multi"]
