"""Partitions of the embedding cache, the float32-bytes encoding, and the first format."""

import numpy as np
import pyarrow as pa
import pytest

from al_core.embeddings import EmbeddingCache, vector_files


@pytest.fixture
def filled(tmp_path, monkeypatch):
    """50 vectors in three appends, row groups of 8 rows."""
    monkeypatch.setattr(vector_files, "ROW_GROUP_ROWS", 8)
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    hashes = [f"h{i:03d}" for i in range(50)]
    vectors = rng.standard_normal((50, 6)).astype(np.float32)
    for part in (slice(0, 20), slice(20, 45), slice(45, 50)):
        cache.put("m", hashes[part], vectors[part])
    return cache, hashes, vectors


def test_partitions_cover_every_row_once_and_read_back_exactly(filled):
    cache, hashes, vectors = filled
    version, parts = cache.plan_partitions("m", rows=16)
    # 3 files of 20, 25 and 5 rows in groups of at most 8 rows: 3+4+1 groups, gathered until
    # a partition holds at least 16 rows: 3 partitions (the last may hold fewer).
    assert sum(len(p) for p in parts) == 8 and len(parts) == 3
    seen = {}
    for groups in parts:
        got, matrix = cache.read_partition("m", version, groups)
        for h, v in zip(got.to_pylist(), matrix, strict=True):
            assert h not in seen
            seen[h] = v
    assert sorted(seen) == hashes
    for h, v in zip(hashes, vectors, strict=True):
        assert np.array_equal(seen[h], v)  # float32 bytes: exact


def test_a_partition_plan_reads_its_version_after_later_appends(filled):
    cache, hashes, _ = filled
    version, parts = cache.plan_partitions("m", rows=1000)
    cache.put("m", ["new"], np.ones((1, 6), np.float32))
    got, _ = cache.read_partition("m", version, parts[0])
    assert sorted(got.to_pylist()) == hashes


def test_missing_reads_only_hashes(filled):
    cache, hashes, _ = filled
    assert cache.missing("m", hashes[:3] + ["x", "y", "x"]).to_pylist() == ["x", "y"]
    assert cache.missing("other", ["x"]).to_pylist() == ["x"]


def test_lookup_of_a_few_hashes_matches(filled):
    cache, hashes, vectors = filled
    found = cache.lookup("m", [hashes[3], hashes[47], "absent"])
    assert np.array_equal(found[hashes[3]], vectors[3])
    assert np.array_equal(found[hashes[47]], vectors[47]) and "absent" not in found


def test_cache_of_the_first_format_is_read_and_compacted_to_bytes(tmp_path):
    from deltalake import DeltaTable, write_deltalake

    cache = EmbeddingCache(tmp_path)
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    cache.location.write_json("m/model.json", {"model_id": "m", "dimension": 3, "embedder": ""})
    lists = pa.array(vectors.tolist(), pa.list_(pa.float32()))
    write_deltalake(cache.table_uri("m"), pa.table({"content_hash": list("abcd"), "vector": lists}))
    cache.put("m", ["e", "a"], np.full((2, 3), 7, np.float32))  # appends in the list type
    found = cache.lookup("m", list("abcde"))
    assert np.array_equal(found["c"], vectors[2]) and np.array_equal(found["e"], [7, 7, 7])
    cache.compact("m")
    assert pa.types.is_binary(
        pa.schema(DeltaTable(cache.table_uri("m")).schema()).field("vector").type
    )
    assert cache.count("m") == 5
    assert np.array_equal(cache.lookup("m", ["b"])["b"], vectors[1])
