"""Stopping criteria from configuration text, and the make_stopping registry entry."""

from __future__ import annotations

import pytest

from al_core.errors import ConfigError
from al_core.registry import make_stopping
from al_core.stopping import (
    AnyOf,
    KappaAverage,
    LabelBudget,
    build_criteria,
    build_criterion,
    parse_spec,
    split_specs,
)


def test_split_keeps_commas_inside_parentheses():
    text = "kappa-average, any(delta-f,label-budget(budget=5)) ,max-iterations"
    assert split_specs(text) == [
        "kappa-average",
        "any(delta-f,label-budget(budget=5))",
        "max-iterations",
    ]
    assert split_specs(["a,b", "c"]) == ["a", "b", "c"]
    assert split_specs(" , ") == []


def test_parse_and_canonical_text():
    spec = parse_spec(" kappa-average( window_size = 2 , kappa=0.95 ) ")
    assert spec.name == "kappa-average"
    assert dict(spec.params) == {"kappa": 0.95, "window_size": 2}
    assert spec.text() == "kappa-average(kappa=0.95,window_size=2)"  # sorted, no spaces
    nested = parse_spec(
        "any(delta-f, all(eval-plateau(metric=macro_f1,min_delta=0), label-budget(budget=9)))"
    )
    assert nested.text() == (
        "any(delta-f,all(eval-plateau(metric=macro_f1,min_delta=0),label-budget(budget=9)))"
    )
    assert parse_spec("x(flag=true)").params == (("flag", True),)


def test_build_fills_defaults_and_num_classes():
    kappa = build_criterion(
        "kappa-average", num_classes=4, defaults={"kappa-average": {"kappa": 0.9}}
    )
    assert isinstance(kappa, KappaAverage) and (kappa.num_classes, kappa.kappa) == (4, 0.9)
    assert kappa.label == "kappa-average"
    explicit = build_criterion(
        "kappa-average(kappa=0.5)", num_classes=4, defaults={"kappa-average": {"kappa": 0.9}}
    )
    assert explicit.kappa == 0.5 and explicit.label == "kappa-average(kappa=0.5)"
    combo = build_criterion("any(label-budget(budget=3),kappa-average)", num_classes=2)
    assert isinstance(combo, AnyOf) and isinstance(combo.criteria[0], LabelBudget)
    assert [c.label for c in combo.criteria] == ["label-budget(budget=3)", "kappa-average"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "unknown stopping criterion 'nope'; choose one of max-iterations"),
        ("label-budget", "needs budget, e.g. label-budget(budget=...)"),
        ("kappa-average(foo=1)", "has no parameter foo (it takes kappa, window_size)"),
        ("kappa-average(kappa=2)", "kappa threshold must lie in [-1, 1]"),
        ("kappa-average(kappa=0.9", "missing ')'"),
        ("kappa-average(kappa=)", "kappa= needs a value"),
        ("kappa-average(kappa=1,kappa=2)", "given twice"),
        ("any()", "needs at least one criterion"),
        ("all(kappa=1)", "takes criteria"),
        ("max-iterations(delta-f)", "takes key=value parameters"),
        ("kappa average", "unexpected 'average'"),
        ("kappa-average;", "cannot read"),
        ("", "empty stopping criterion"),
    ],
)
def test_bad_text_is_one_clear_config_error(text, message):
    with pytest.raises(ConfigError) as info:
        build_criterion(text, num_classes=3)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_build_criteria_rejects_duplicates():
    assert [c.label for c in build_criteria("delta-f,kappa-average", num_classes=2)] == [
        "delta-f",
        "kappa-average",
    ]
    with pytest.raises(ConfigError, match="given twice"):
        build_criteria(["delta-f", " delta-f"], num_classes=2)


def test_make_stopping_keeps_the_legacy_defaults():
    assert make_stopping("max-iterations", num_classes=3, max_iterations=7).max_iterations == 7
    assert make_stopping("kappa-average", num_classes=3, kappa=0.8).kappa == 0.8
    budget = make_stopping("label-budget", num_classes=3, params={"label-budget": {"budget": 40}})
    assert budget.budget == 40


def test_workspace_settings_old_and_new():
    from al_core.pipeline.stopping import make_criteria
    from al_core.storage import WorkspaceConfig

    old = WorkspaceConfig.from_dict(
        {"labels": ["a", "b"], "active_learning": {"stopping": ["max-iterations"], "kappa": 0.9}}
    )
    assert old.active_learning.stopping_params == {}  # a file written before the field loads
    settings = WorkspaceConfig.from_dict(
        {
            "labels": ["a", "b"],
            "active_learning": {
                "max_iterations": 4,
                "stopping": ["max-iterations", "label-budget", "any(kappa-average,delta-f)"],
                "stopping_params": {"label-budget": {"budget": 80}, "delta-f": {"threshold": 0.05}},
            },
        }
    ).active_learning
    criteria = make_criteria(settings, num_classes=2)
    assert list(criteria) == ["max-iterations", "label-budget", "any(kappa-average,delta-f)"]
    assert criteria["max-iterations"].max_iterations == 4
    assert criteria["label-budget"].budget == 80
    assert criteria["any(kappa-average,delta-f)"].criteria[1].threshold == 0.05
