"""Inter-annotator agreement: Krippendorff's alpha, Cohen's kappa, Fleiss' kappa (nominal).

Each function takes *ratings*: one row per (item, annotator) with the annotator's value for
the item (for alflow, an annotator's newest label of an item; for multi-label workspaces the
label set as one nominal value, so two annotators agree when they chose exactly the same
labels). Values are compared for equality only.

* :func:`krippendorff_alpha` — any number of annotators, items with missing ratings; the
  measure of choice for crowd-style labelling. Krippendorff, K. (2011). *Computing
  Krippendorff's Alpha-Reliability*. Annenberg School for Communication, University of
  Pennsylvania: alpha = 1 - D_o / D_e from the coincidence matrix ``o`` of pairable values,
  which for nominal data is ``1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k``.
  Items rated by fewer than two annotators are not pairable and are left out.
* :func:`cohen_kappa` — two annotators on the items both rated. Cohen, J. (1960). A coefficient
  of agreement for nominal scales. *Educational and Psychological Measurement* 20(1):
  kappa = (p_o - p_e) / (1 - p_e), p_e from each annotator's own marginals.
* :func:`fleiss_kappa` — the same number ``m`` of ratings for every item (annotators may differ
  between items). Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  *Psychological Bulletin* 76(5): P_i = (sum_j n_ij^2 - m) / (m (m - 1)), p_j the share of
  all ratings in category j, kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2).

Every function is vectorised over an items x categories count matrix; ``None`` is returned
where the measure is undefined (no pairable item, or chance agreement of 1).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd


def _counts(items: Sequence[Hashable], values: Sequence[Hashable]) -> np.ndarray:
    """Items x categories matrix: how many annotators gave each value to each item."""
    frame = pd.DataFrame({"item": list(items), "value": list(values)})
    if frame.empty:
        return np.zeros((0, 0))
    return pd.crosstab(frame["item"], frame["value"]).to_numpy(dtype=float)


def krippendorff_alpha(items: Sequence[Hashable], values: Sequence[Hashable]) -> float | None:
    """Krippendorff's alpha for nominal values; ``items[i]`` got ``values[i]`` from one annotator.

    Pass one rating per (item, annotator).
    """
    counts = _counts(items, values)
    m = counts.sum(axis=1) if counts.size else np.zeros(0)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if counts.size == 0:
        return None
    weighted = counts / (m - 1)[:, None]
    # o_ck = sum_u n_uc n_uk / (m_u - 1) for c != k; o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1)
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    disagree_observed = coincidence.sum() - np.trace(coincidence)
    disagree_expected = n_c.sum() ** 2 - (n_c**2).sum()
    if disagree_expected == 0:
        return None
    return float(1.0 - (n - 1) * disagree_observed / disagree_expected)


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators' values on the same items (in the same order)."""
    if len(first) != len(second):
        raise ValueError(f"cohen_kappa needs paired ratings, got {len(first)} and {len(second)}")
    if not len(first):
        return None
    table = pd.crosstab(pd.Series(list(first)), pd.Series(list(second)), dropna=False)
    cats = table.index.union(table.columns)
    table = table.reindex(index=cats, columns=cats, fill_value=0).to_numpy(dtype=float)
    n = table.sum()
    observed = np.trace(table) / n
    chance = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    if chance >= 1.0:
        return None
    return float((observed - chance) / (1.0 - chance))


def fleiss_kappa(items: Sequence[Hashable], values: Sequence[Hashable]) -> float | None:
    """Fleiss' kappa; every item must have the same number (at least 2) of ratings."""
    counts = _counts(items, values)
    if counts.size == 0:
        return None
    m = counts.sum(axis=1)
    if not np.all(m == m[0]) or m[0] < 2:
        raise ValueError(
            "Fleiss' kappa needs the same number (at least 2) of ratings for every item; "
            f"got between {int(m.min())} and {int(m.max())}"
        )
    raters = m[0]
    p_item = ((counts**2).sum(axis=1) - raters) / (raters * (raters - 1))
    p_cat = counts.sum(axis=0) / counts.sum()
    chance = float((p_cat**2).sum())
    if chance >= 1.0:
        return None
    return float((p_item.mean() - chance) / (1.0 - chance))


def agreement_report(ratings: pd.DataFrame) -> dict:
    """Agreement over ``ratings`` (columns ``id``, ``annotator``, ``value``), one per pair.

    Returns the items rated by two or more annotators, those where they differ, Krippendorff's
    alpha over all of them, Fleiss' kappa when every such item has the same number of ratings,
    Cohen's kappa for each pair of annotators with shared items, and per annotator: items
    rated, items shared with another annotator, and items where someone disagreed.
    """
    per_item = ratings.groupby("id")["annotator"].transform("size")
    shared = ratings[per_item >= 2]
    distinct = shared.groupby("id")["value"].nunique()
    disagreed = set(distinct[distinct > 1].index)
    fleiss = None
    sizes = shared.groupby("id").size()
    if len(sizes) and sizes.nunique() == 1:
        fleiss = fleiss_kappa(shared["id"].tolist(), shared["value"].tolist())
    pairs = []
    names = sorted(shared["annotator"].unique())
    wide = shared.pivot(index="id", columns="annotator", values="value")
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            both = wide[[a, b]].dropna()
            if len(both):
                pairs.append(
                    {
                        "annotators": [a, b],
                        "items": len(both),
                        "agreement": float((both[a] == both[b]).mean()),
                        "cohen_kappa": cohen_kappa(both[a].tolist(), both[b].tolist()),
                    }
                )
    annotators = []
    for name, group in ratings.groupby("annotator"):
        mine = set(group["id"])
        annotators.append(
            {
                "annotator": name,
                "items": len(mine),
                "shared_items": len(mine & set(shared["id"])),
                "disagreements": len(mine & disagreed),
            }
        )
    return {
        "items_rated": int(ratings["id"].nunique()),
        "items_shared": int(shared["id"].nunique()),
        "items_disagreed": len(disagreed),
        "krippendorff_alpha": krippendorff_alpha(shared["id"].tolist(), shared["value"].tolist()),
        "fleiss_kappa": fleiss,
        "pairs": pairs,
        "annotators": annotators,
    }
