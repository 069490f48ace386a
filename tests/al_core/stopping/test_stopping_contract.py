"""Contract every registered criterion keeps: decisions, JSON state, not-applicable cases.

Each criterion gets the same sequence of contexts; a copy restored from the JSON state after
any prefix must give the same decisions afterwards, and a not-applicable context must change
nothing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from al_core.stopping import REGISTRY, StopDecision, build_context, build_criterion

SPECS = {
    "max-iterations": "max-iterations(max_iterations=3)",
    "kappa-average": "kappa-average(window_size=2)",
    "delta-f": "delta-f(window_size=2)",
    "classification-change": "classification-change",
    "overall-uncertainty": "overall-uncertainty(threshold=0.6)",
    "label-budget": "label-budget(budget=40)",
    "eval-plateau": "eval-plateau(patience=2)",
    "any": "any(kappa-average,label-budget(budget=40))",
    "all": "all(delta-f(window_size=2),max-iterations(max_iterations=2))",
}


def contexts(multi_label: bool = False):
    rng = np.random.default_rng(0)
    out = []
    for it in range(6):
        shape = (12, 3)
        proba = rng.dirichlet(np.ones(3), size=12) if not multi_label else rng.random(shape)
        if it >= 3:  # the model settles: identical outputs from here on
            proba = np.tile(np.array([0.8, 0.15, 0.05]), (12, 1))
        out.append(
            build_context(
                iteration=it,
                num_labeled=10 + 10 * it,
                proba=proba,
                multi_label=multi_label,
                labeled=np.arange(12) < it,
                eval_metrics={"accuracy": min(0.5 + 0.1 * it, 0.8), "macro_f1": None},
            )
        )
    return out


def test_every_registered_criterion_is_covered():
    assert set(SPECS) == set(REGISTRY)
    for cls in REGISTRY.values():
        assert cls.description and "\n" not in cls.description


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("cut", [1, 3])
def test_state_round_trip_gives_the_same_decisions(name, cut):
    seq = contexts()
    crit = build_criterion(SPECS[name], num_classes=3)
    decisions = [crit.check(c) for c in seq[:cut]]
    copy = build_criterion(SPECS[name], num_classes=3)
    copy.load_state_dict(json.loads(json.dumps(crit.state_dict())))
    for c in seq[cut:]:
        d = crit.check(c)
        assert isinstance(d, StopDecision) and copy.check(c) == d
        decisions.append(d)
    assert any(d.stop for d in decisions), [d.reason for d in decisions]
    for d in decisions:
        assert d.reason and (d.value is None or np.isfinite(d.value))
        assert d.kind in ("stop", "continue")


#: Criteria that cannot judge a context without stopping set or evaluation scores.
NEEDS_DATA = {"kappa-average", "delta-f", "classification-change", "overall-uncertainty"}
NEEDS_DATA |= {"eval-plateau", "all"}


@pytest.mark.parametrize("name", list(SPECS))
def test_not_applicable_leaves_state_alone(name):
    crit = build_criterion(SPECS[name], num_classes=3)
    crit.check(contexts()[0])
    before = json.dumps(crit.state_dict())
    d = crit.check(build_context(iteration=1, num_labeled=20))  # no stopping set, no scores
    assert d.applicable == (name not in NEEDS_DATA)
    if not d.applicable:
        assert d.reason.startswith("not applicable: ") and not d.stop and d.value is None
    assert json.dumps(crit.state_dict()) == before


@pytest.mark.parametrize("name", list(SPECS))
def test_multi_label(name):
    crit = build_criterion(SPECS[name], num_classes=3)
    decisions = [crit.check(c) for c in contexts(multi_label=True)]
    if name == "kappa-average":
        assert not any(d.applicable for d in decisions)
        assert "single-label tasks only" in decisions[0].reason
    else:
        assert all(d.applicable for d in decisions) and any(d.stop for d in decisions)
