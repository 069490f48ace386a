"""Classifier outputs over many pool rows, a chunk at a time, into one preallocated array.

Memory stays bounded by the chunk, outputs keep the classifier's dtype (no float64 up-cast of a
float32 model), and when the rows are sorted and cover most of a contiguous span of a dense
array, chunks are passed as slices (views) of ``X`` instead of fancy-indexed copies: the few
rows in between that are not wanted are computed and dropped, which costs less than copying
every chunk.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from al_core.features import Features, take_rows

DEFAULT_CHUNK_SIZE = 8192
_MAX_SPAN_OVERHEAD = 1.2  # compute at most 20% unwanted rows to avoid copying chunks


def map_rows(
    fn: Callable[[Features], np.ndarray],
    X: Features,
    rows: np.ndarray,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    axis: int = 0,
) -> np.ndarray:
    """``fn(X[rows])`` computed chunk by chunk; ``axis`` is the item axis of ``fn``'s output."""
    rows = np.asarray(rows, dtype=np.int64)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    out: np.ndarray | None = None
    for dest, part in _chunks(fn, X, rows, chunk_size, axis):
        part = np.asarray(part)
        count = dest.stop - dest.start
        if part.ndim <= axis or part.shape[axis] != count:
            raise ValueError(
                f"classifier returned shape {part.shape} for {count} items (item axis {axis})"
            )
        if out is None:
            shape = list(part.shape)
            shape[axis] = len(rows)
            out = np.empty(shape, dtype=part.dtype)
        index = [slice(None)] * out.ndim
        index[axis] = dest
        out[tuple(index)] = part
    if out is None:
        return np.empty((0, 0) if axis == 0 else (0, 0, 0))
    return out


def _chunks(fn, X, rows, chunk_size, axis):
    """Yield ``(positions in rows, fn output for those rows)``."""
    n = len(rows)
    if n == 0:
        return
    sorted_dense = (
        isinstance(X, np.ndarray)
        and rows[-1] - rows[0] + 1 <= _MAX_SPAN_OVERHEAD * n
        and bool(np.all(rows[1:] > rows[:-1]))
    )
    if not sorted_dense:
        for start in range(0, n, chunk_size):
            chunk = rows[start : start + chunk_size]
            yield slice(start, start + len(chunk)), fn(take_rows(X, chunk))
        return
    lo, end = int(rows[0]), int(rows[-1]) + 1
    for start in range(lo, end, chunk_size):
        stop = min(start + chunk_size, end)
        a, b = np.searchsorted(rows, (start, stop))
        if a == b:
            continue
        part = np.asarray(fn(X[start:stop]))
        if b - a != stop - start:
            if part.ndim < axis + 1 or part.shape[axis] != stop - start:
                raise ValueError(f"classifier returned shape {part.shape} for {stop - start} items")
            part = np.take(part, rows[a:b] - start, axis=axis)
        yield slice(int(a), int(b)), part


def predict_proba_chunked(
    clf: Any, X: Features, rows: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> np.ndarray:
    """``clf.predict_proba(X[rows])``, shape ``(len(rows), C)``, checked to be finite.

    scikit-learn's own finiteness scan of every input chunk is skipped (``assume_finite``): it
    costs as much as the model's matrix product, and non-finite features still surface here as
    non-finite probabilities, which raise.
    """
    with _assume_finite():
        proba = map_rows(clf.predict_proba, X, rows, chunk_size)
    if len(rows) and (proba.ndim != 2 or proba.shape[1] < 1):
        raise ValueError(f"predict_proba returned shape {proba.shape}")
    if not np.isfinite(proba).all():
        raise ValueError("predict_proba returned non-finite probabilities")
    return proba


def _assume_finite() -> contextlib.AbstractContextManager:
    sklearn = sys.modules.get("sklearn")  # only when a scikit-learn model is already loaded
    return sklearn.config_context(assume_finite=True) if sklearn else contextlib.nullcontext()


def embed_chunked(
    clf: Any, X: Features, rows: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> np.ndarray:
    """``clf.embed(X[rows])`` as a C-contiguous float32 matrix ``(len(rows), d)``."""
    emb = map_rows(lambda part: np.asarray(clf.embed(part), dtype=np.float32), X, rows, chunk_size)
    if len(rows) and emb.ndim != 2:
        raise ValueError(f"embed returned shape {emb.shape}; expected (n, d)")
    if not np.isfinite(emb).all():
        raise ValueError("embed returned non-finite values")
    return emb


def predict_proba_mc_chunked(
    clf: Any,
    X: Features,
    rows: np.ndarray,
    n_samples: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """``clf.predict_proba_mc`` over ``X[rows]``: shape ``(n_samples, len(rows), C)``.

    Chunk ``k`` gets seed ``seed + k``, so chunks draw independent dropout masks.
    """
    counter = iter(range(1 << 62))
    return map_rows(
        lambda part: clf.predict_proba_mc(part, n_samples=n_samples, seed=seed + next(counter)),
        X,
        rows,
        chunk_size,
        axis=1,
    )


def gradient_norms_chunked(
    clf: Any, X: Features, rows: np.ndarray, scope: str, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> np.ndarray:
    """``clf.gradient_norms(X[rows], scope=scope)``: shape ``(len(rows), C)``, non-negative."""
    norms = map_rows(lambda part: clf.gradient_norms(part, scope=scope), X, rows, chunk_size)
    if not np.isfinite(norms).all() or (norms < 0).any():
        raise ValueError("gradient_norms returned negative or non-finite values")
    return norms
