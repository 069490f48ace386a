"""The query package exports and registry."""

from __future__ import annotations

import al_core.query as query


def test_registry_names() -> None:
    assert set(query.REGISTRY) == {
        "random",
        "least-confidence",
        "prediction-entropy",
        "breaking-ties",
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
