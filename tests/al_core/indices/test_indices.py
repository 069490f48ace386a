"""Vector indices: exact answers against a brute-force table, the protocol, and HNSW recall."""

from __future__ import annotations

import numpy as np
import pytest

from al_core.indices import REGISTRY, ExactIndex, HNSWIndex, make_index, normalize_rows


def brute(base, queries, k, metric):
    if metric == "cosine":
        b, qn = normalize_rows(base), normalize_rows(queries)
        d = 1.0 - qn @ b.T
    else:
        d = ((queries[:, None, :] - base[None, :, :]) ** 2).sum(axis=2)
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, ids, axis=1), ids


def test_exact_hand_computed_sqeuclidean() -> None:
    # base 0, 1, 3 (1-D); query 2.2: squared distances 4.84, 1.44, .64 -> ids 2, 1
    index = ExactIndex("sqeuclidean").build(np.array([[0.0], [1.0], [3.0]]))
    dist, ids = index.search(np.array([[2.2]]), 2)
    assert ids.tolist() == [[2, 1]]
    np.testing.assert_allclose(dist, [[0.64, 1.44]], rtol=1e-5)


def test_exact_hand_computed_cosine() -> None:
    # base [1,0], [0,1], [1,1]; query [2,0]: 1 - cos = 0, 1, 1 - 1/sqrt(2) = .292893
    index = ExactIndex("cosine").build(np.array([[1.0, 0], [0, 1], [1, 1]]))
    dist, ids = index.search(np.array([[2.0, 0]]), 3)
    assert ids.tolist() == [[0, 2, 1]]
    np.testing.assert_allclose(dist, [[0.0, 0.292893, 1.0]], atol=1e-6)


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
def test_exact_matches_brute_force_across_blocks(metric) -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(50, 8)).astype(np.float32)
    index = ExactIndex(metric, max_block_entries=1000).build(base)  # 3 queries per block
    dist, ids = index.search(queries, 7)
    d_ref, ids_ref = brute(base, queries, 7, metric)
    np.testing.assert_array_equal(ids, ids_ref)
    np.testing.assert_allclose(dist, d_ref, rtol=1e-4, atol=1e-5)


def test_k_larger_than_index_and_errors() -> None:
    index = ExactIndex().build(np.eye(3))
    dist, ids = index.search(np.eye(3), 10)
    assert ids.shape == (3, 3) and ids[:, 0].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.eye(3), 0)
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.ones((1, 4)), 1)
    with pytest.raises(ValueError, match="empty"):
        ExactIndex().search(np.eye(2), 1)
    with pytest.raises(ValueError, match="non-finite"):
        ExactIndex().build(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="unknown metric"):
        ExactIndex("manhattan")
    with pytest.raises(ValueError, match="unknown vector index"):
        make_index("annoy")


def test_build_without_copy_keeps_the_callers_array_safe_only_when_asked() -> None:
    base = np.array([[3.0, 4.0]], dtype=np.float32)
    ExactIndex().build(base)  # copy=True: untouched
    assert base.tolist() == [[3.0, 4.0]]
    ExactIndex().build(base, copy=False)  # handed over: normalised in place
    np.testing.assert_allclose(base, [[0.6, 0.8]])


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
def test_hnsw_recall_and_distances(metric) -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(1)
    base = rng.normal(size=(2000, 16)).astype(np.float32)
    queries = rng.normal(size=(100, 16)).astype(np.float32)
    dist, ids = make_index("hnsw", metric).build(base).search(queries, 10)
    d_ref, ids_ref = brute(base, queries, 10, metric)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, ids_ref, strict=True)])
    assert recall > 0.9
    # distances reported for the ids found are the true distances
    exact_d = ExactIndex(metric).build(base)
    true = np.array(
        [
            [brute(base[[i]], queries[[r]], 1, metric)[0][0, 0] for i in row]
            for r, row in enumerate(ids[:5])
        ]
    )
    np.testing.assert_allclose(dist[:5], true, rtol=1e-3, atol=1e-4)
    assert len(exact_d) == 2000


def test_registry() -> None:
    assert set(REGISTRY) == {"exact", "hnsw"}
    assert REGISTRY["hnsw"] is HNSWIndex
