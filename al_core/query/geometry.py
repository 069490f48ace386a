"""Distances and k-means over embedding matrices, in bounded blocks (never ``n x n``)."""

from __future__ import annotations

import numpy as np

from al_core.indices import normalize_rows

_BLOCK_ENTRIES = 1 << 24  # floats in one block of a points-by-centres distance matrix


def nearest_center(points: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the squared Euclidean distance to its nearest centre and that centre's index."""
    n = len(points)
    best = np.empty(n, dtype=np.float32)
    which = np.empty(n, dtype=np.int64)
    if n == 0:
        return best, which
    c_sq = np.einsum("ij,ij->i", centers, centers)
    block = max(1, _BLOCK_ENTRIES // max(1, len(centers)))
    for start in range(0, n, block):
        p = points[start : start + block]
        d = p @ centers.T
        d *= -2.0
        d += c_sq[None, :]
        d += np.einsum("ij,ij->i", p, p)[:, None]
        idx = d.argmin(axis=1)
        which[start : start + block] = idx
        best[start : start + block] = np.maximum(d[np.arange(len(p)), idx], 0.0)
    return best, which


def sq_dist_to_point(points: np.ndarray, point: np.ndarray, sq_norms: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every row of ``points`` to one ``point``."""
    d = sq_norms - 2.0 * (points @ point) + float(point @ point)
    return np.maximum(d, 0.0)


def prepare_embeddings(emb: np.ndarray, normalize: bool) -> np.ndarray:
    """``emb`` as float32, rows normalised in place when ``normalize`` (the caller owns it)."""
    emb = np.ascontiguousarray(emb, dtype=np.float32)
    return normalize_rows(emb, inplace=True) if normalize else emb


def kmeans(
    points: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    max_fit: int = 50_000,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k-means centres fitted on at most ``max_fit`` rows (seeded), then every row assigned.

    Returns ``(centres, labels, squared distance to own centre)``. Fitting on a uniform
    subsample bounds the cost on large pools; the assignment pass is exact over all rows.
    """
    from sklearn.cluster import KMeans

    k = min(int(k), len(points))
    fit_rows = np.arange(len(points))
    if len(points) > max_fit:
        fit_rows = np.sort(rng.choice(len(points), size=max_fit, replace=False))
    km = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1)))
    km.fit(points[fit_rows], sample_weight=None if weights is None else weights[fit_rows])
    centers = km.cluster_centers_.astype(np.float32)
    dist, labels = nearest_center(points, centers)
    return centers, labels, dist


def closest_per_cluster(labels: np.ndarray, dist: np.ndarray, k: int) -> np.ndarray:
    """For each cluster ``0..k-1`` that has members, the member closest to its centre."""
    order = np.lexsort((dist, labels))
    first = np.ones(len(order), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    return order[first]
