"""Agreement measures against cases worked out by hand (and Krippendorff's own example)."""

import pandas as pd
import pytest

from al_core.labels.agreement import (
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)

# Two annotators, four items: (a, a), (a, b), (b, b), (b, b).
TWO = pd.DataFrame(
    {
        "id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u4"],
        "annotator": ["x", "y"] * 4,
        "value": ["a", "a", "a", "b", "b", "b", "b", "b"],
    }
)


def test_krippendorff_alpha_by_hand():
    # Coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8.
    # alpha = 1 - (n - 1) * (o_ab + o_ba) / (2 n_a n_b) = 1 - 7 * 2 / 30 = 16 / 30.
    assert krippendorff_alpha(TWO.id, TWO.value) == pytest.approx(16 / 30)


def test_krippendorff_alpha_published_example_with_missing_values():
    # Krippendorff (2011), nominal data, 4 observers, 12 units, missing values: alpha = 0.743.
    rows = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    items, values = [], []
    for row in rows:
        for unit, value in enumerate(row.split()):
            if value != ".":
                items.append(unit)
                values.append(value)
    assert krippendorff_alpha(items, values) == pytest.approx(0.743, abs=5e-4)


def test_cohen_kappa_by_hand():
    # p_o = 3/4; marginals x: a 2, b 2; y: a 1, b 3 -> p_e = 2/4*1/4 + 2/4*3/4 = 1/2; kappa 1/2.
    x = TWO[TWO.annotator == "x"].value.tolist()
    y = TWO[TWO.annotator == "y"].value.tolist()
    assert cohen_kappa(x, y) == pytest.approx(0.5)
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is 1
    with pytest.raises(ValueError, match="paired"):
        cohen_kappa(["a"], [])


def test_fleiss_kappa_by_hand():
    # 3 ratings each: (a, a, a), (a, a, b), (b, b, b). P_i = 1, 1/3, 1 -> mean 7/9;
    # p_a = 5/9, p_b = 4/9 -> P_e = 41/81; kappa = (63 - 41) / (81 - 41) = 22/40.
    items = ["i1"] * 3 + ["i2"] * 3 + ["i3"] * 3
    values = ["a", "a", "a", "a", "a", "b", "b", "b", "b"]
    assert fleiss_kappa(items, values) == pytest.approx(22 / 40)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa(["i1", "i1", "i2"], ["a", "b", "a"])


def test_no_pairable_item_gives_none():
    assert krippendorff_alpha(["i1", "i2"], ["a", "b"]) is None
    assert fleiss_kappa([], []) is None


def test_agreement_report_counts_per_annotator_and_pair():
    ratings = pd.concat(
        [TWO, pd.DataFrame({"id": ["u5"], "annotator": ["z"], "value": ["a"]})],
        ignore_index=True,
    )
    report = agreement_report(ratings)
    assert report["items_rated"] == 5 and report["items_shared"] == 4
    assert report["items_disagreed"] == 1
    assert report["krippendorff_alpha"] == pytest.approx(16 / 30)
    # Fleiss with 2 ratings per item: P_i = 1, 0, 1, 1 -> 3/4; p_a = 3/8, p_b = 5/8 ->
    # P_e = 34/64; kappa = (48 - 34) / (64 - 34) = 7/15.
    assert report["fleiss_kappa"] == pytest.approx(7 / 15)
    (pair,) = report["pairs"]
    assert pair["annotators"] == ["x", "y"] and pair["items"] == 4
    assert pair["agreement"] == pytest.approx(0.75) and pair["cohen_kappa"] == pytest.approx(0.5)
    by_name = {a["annotator"]: a for a in report["annotators"]}
    assert by_name["x"] == {"annotator": "x", "items": 4, "shared_items": 4, "disagreements": 1}
    assert by_name["z"] == {"annotator": "z", "items": 1, "shared_items": 0, "disagreements": 0}
