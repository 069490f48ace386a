from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from al_core.embeddings import (
    DimensionMismatchError,
    EmbeddingCache,
    EmbeddingCacheError,
    TfidfEmbedder,
    model_slug,
)
from al_core.hashing import content_hash, content_hashes

TEXTS = ["the cat sat", "a dog barked", "stocks fell sharply", "rain again today"]


def test_content_hash_is_sha256_hex():
    assert content_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert content_hash("é") != content_hash("e")
    assert content_hashes(["abc", "x"]) == [content_hash("abc"), content_hash("x")]


def test_embeds_each_text_once_across_instances(tmp_path, counting_cls):
    first = counting_cls()
    a = EmbeddingCache(tmp_path).get_or_compute(first, TEXTS)
    assert first.embedded == TEXTS
    assert a.dtype == np.float32 and a.shape == (4, 4)
    np.testing.assert_array_equal(a, first.transform(TEXTS))

    second = counting_cls()  # same model id, new process-like state
    b = EmbeddingCache(tmp_path).get_or_compute(second, list(reversed(TEXTS)))
    assert second.calls == []
    np.testing.assert_array_equal(b, a[::-1])
    assert EmbeddingCache(tmp_path).count(first.model_id) == 4


def test_incremental_texts_only_embed_the_new_ones(tmp_path, counting_cls):
    emb = counting_cls()
    cache = EmbeddingCache(tmp_path)
    cache.get_or_compute(emb, TEXTS[:2])
    out = cache.get_or_compute(emb, [TEXTS[1], TEXTS[2], TEXTS[0], TEXTS[3]])
    assert emb.calls == [TEXTS[:2], [TEXTS[2], TEXTS[3]]]
    assert cache.last_stats == {"texts": 4, "unique": 4, "cached": 2, "embedded": 2}
    np.testing.assert_array_equal(out, counting_cls().transform([TEXTS[i] for i in (1, 2, 0, 3)]))
    assert len(cache.files(emb.model_id)) == 2
    assert cache.count(emb.model_id) == 4
    # Everything cached now: no call, no new part.
    cache.get_or_compute(emb, TEXTS)
    assert len(emb.calls) == 2 and len(cache.files(emb.model_id)) == 2


def test_duplicate_texts_in_one_call_are_embedded_once(tmp_path, counting_cls):
    emb = counting_cls()
    texts = ["a", "b", "a", "a", "c", "b"]
    out = EmbeddingCache(tmp_path).get_or_compute(emb, texts)
    assert emb.calls == [["a", "b", "c"]]
    assert EmbeddingCache(tmp_path).get_or_compute(emb, texts).shape == (6, 4)
    assert out.shape == (6, 4)
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], out[3])
    np.testing.assert_array_equal(out[1], out[5])
    assert EmbeddingCache(tmp_path).count(emb.model_id) == 3


def test_precomputed_hashes_are_used_and_checked(tmp_path, counting_cls):
    emb = counting_cls()
    cache = EmbeddingCache(tmp_path)
    out = cache.get_or_compute(emb, TEXTS, content_hashes=content_hashes(TEXTS))
    assert cache.get_or_compute(counting_cls(), TEXTS).tolist() == out.tolist()
    with pytest.raises(ValueError, match="align"):
        cache.get_or_compute(emb, TEXTS, content_hashes=content_hashes(TEXTS[:2]))


def test_vectors_are_a_delta_table_with_the_documented_schema(tmp_path, counting_cls):
    from deltalake import DeltaTable

    emb = counting_cls(model_id="org/Model name v2")
    cache = EmbeddingCache(tmp_path)
    cache.get_or_compute(emb, TEXTS[:2])
    cache.get_or_compute(emb, TEXTS[2:])
    model_dir = cache.model_dir(emb.model_id)
    assert model_dir.parent == tmp_path
    assert model_dir.name == model_slug(emb.model_id)
    assert "/" not in model_dir.name and " " not in model_dir.name
    assert sorted(p.name for p in model_dir.iterdir()) == ["model.json", "vectors"]
    dt = DeltaTable(str(model_dir / "vectors"))
    assert dt.version() == 1  # one commit per call that embedded something
    files = cache.files(emb.model_id)
    assert len(files) == 2 and all(f.endswith(".parquet") for f in files)
    schema = pq.read_schema(files[0])
    assert schema.field("content_hash").type == pa.string()
    vector = schema.field("vector").type  # float32 bytes (see al_core/embeddings/vector_files.py)
    assert pa.types.is_binary(vector) or pa.types.is_large_binary(vector)
    stored = dt.to_pyarrow_table()
    assert sorted(stored.column("content_hash").to_pylist()) == sorted(content_hashes(TEXTS))
    assert cache.model_ids() == ["org/Model name v2"]

    # A file no commit names (e.g. left by a crashed writer) is invisible to readers.
    (model_dir / "vectors" / "part-stray.parquet").write_bytes(b"garbage")
    assert cache.count(emb.model_id) == 4
    assert len(cache.files(emb.model_id)) == 2
    again = counting_cls(model_id="org/Model name v2")
    cache.get_or_compute(again, TEXTS)
    assert again.calls == []


def test_model_ids_are_kept_apart(tmp_path, counting_cls):
    cache = EmbeddingCache(tmp_path)
    a, b = counting_cls(model_id="m-a"), counting_cls(model_id="m-b")
    cache.get_or_compute(a, TEXTS)
    cache.get_or_compute(b, TEXTS[:1])
    assert b.embedded == TEXTS[:1]
    assert cache.model_ids() == ["m-a", "m-b"]
    assert (cache.count("m-a"), cache.count("m-b"), cache.count("unknown")) == (4, 1, 0)
    assert model_slug("m-a") == "m-a"
    assert model_slug("a/b") != model_slug("a_b")


def test_dimension_mismatch_is_a_clear_error(tmp_path, counting_cls):
    cache = EmbeddingCache(tmp_path)
    cache.get_or_compute(counting_cls(dim=4), TEXTS[:2])
    wider = counting_cls(dim=8)  # same model id, other output size
    with pytest.raises(DimensionMismatchError, match="8-d.*4-d"):
        cache.get_or_compute(wider, TEXTS)
    assert cache.dimension(wider.model_id) == 4


def test_stored_vectors_of_another_dimension_are_detected(tmp_path, counting_cls):
    from deltalake import write_deltalake

    cache = EmbeddingCache(tmp_path)
    emb = counting_cls(dim=4)
    cache.get_or_compute(emb, TEXTS[:2])
    bad = pa.table({"content_hash": ["x"], "vector": pa.array([bytes(12)], pa.binary())})
    write_deltalake(cache.table_uri(emb.model_id), bad, mode="append")
    with pytest.raises(DimensionMismatchError, match="3-d"):
        cache.get_or_compute(emb, TEXTS + ["x"], content_hashes=content_hashes(TEXTS) + ["x"])


def test_rejects_non_cacheable_embedders(tmp_path):
    with pytest.raises(EmbeddingCacheError, match="not cacheable"):
        EmbeddingCache(tmp_path).get_or_compute(TfidfEmbedder(), TEXTS)


def test_empty_input(tmp_path, counting_cls):
    emb = counting_cls()
    cache = EmbeddingCache(tmp_path)
    assert cache.get_or_compute(emb, []).shape == (0, 4)  # asks the embedder
    cache.get_or_compute(emb, TEXTS[:1])
    assert cache.get_or_compute(emb, []).shape == (0, 4)
    assert cache.files(emb.model_id) and len(cache.files(emb.model_id)) == 1


def test_compact_merges_parts_and_drops_duplicates(tmp_path, counting_cls):
    emb = counting_cls()
    cache = EmbeddingCache(tmp_path)
    before = cache.get_or_compute(emb, TEXTS[:3])
    cache.get_or_compute(emb, TEXTS[3:])
    # Simulate a concurrent writer that appended an already-cached text.
    cache.put(emb.model_id, content_hashes(TEXTS[:1]), emb.transform(TEXTS[:1]))
    assert len(cache.files(emb.model_id)) == 3 and cache.count(emb.model_id) == 4
    cache.compact(emb.model_id)
    assert len(cache.files(emb.model_id)) == 1
    assert pq.read_metadata(cache.files(emb.model_id)[0]).num_rows == 4
    assert cache.count(emb.model_id) == 4
    after = cache.get_or_compute(counting_cls(), TEXTS[:3])
    np.testing.assert_array_equal(before, after)


def test_reads_a_subset_of_a_larger_cache(tmp_path, counting_cls):
    emb = counting_cls(dim=16)
    cache = EmbeddingCache(tmp_path)
    texts = [f"text number {i}" for i in range(20_000)]
    full = cache.get_or_compute(emb, texts)
    subset = texts[::7][::-1]
    t0 = time.perf_counter()
    out = cache.get_or_compute(counting_cls(dim=16), subset)
    elapsed = time.perf_counter() - t0
    np.testing.assert_array_equal(out, full[::7][::-1])
    assert elapsed < 5.0  # generous: about 0.05 s on a 2-core machine


def test_lookup_returns_only_cached_hashes(tmp_path, counting_cls):
    emb = counting_cls()
    cache = EmbeddingCache(tmp_path)
    X = cache.get_or_compute(emb, TEXTS[:2])
    found = cache.lookup(emb.model_id, content_hashes([TEXTS[1], TEXTS[3]]))
    assert list(found) == [content_hash(TEXTS[1])]
    np.testing.assert_array_equal(found[content_hash(TEXTS[1])], X[1])
    assert cache.lookup("never-stored", content_hashes(TEXTS)) == {}
    with pytest.raises(TypeError, match="must be str"):
        cache.get_or_compute(emb, TEXTS[:2], content_hashes=[1, 2])
