"""How the embedding cache stores vectors in Parquet, and how it reads them back fast.

A vector is stored as one ``binary`` value of ``dimension`` little-endian float32 (1,536 bytes
for MiniLM), with LZ4 compression and no dictionary, in row groups of
:data:`ROW_GROUP_ROWS` rows. Measured on the shared 2-core machine, 200k x 384 vectors: a
``list<float32>`` column (the first format, one repetition level per float) read in 2.3-4.3 s,
the same bytes as ``binary`` in 0.3-0.7 s, and turning the binary column into a NumPy matrix
is a view of its data buffer. Caches written in the first format are still read (and
rewritten in this one by :meth:`~al_core.embeddings.EmbeddingCache.compact`).

Reads go by Parquet row group (:func:`row_groups`, :func:`read_row_groups`), the unit a
partition of the cache is made of; local files are opened with pyarrow's own file reader,
which was 2-3x faster here than going through the Delta dataset's file system.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

# Rows per Parquet row group (24 MB of 384-d vectors).
ROW_GROUP_ROWS = 16_384


def writer_properties():
    from deltalake import ColumnProperties, WriterProperties

    return WriterProperties(
        compression="LZ4_RAW",
        max_row_group_size=ROW_GROUP_ROWS,
        column_properties={"vector": ColumnProperties(dictionary_enabled=False)},
    )


def encode(vectors: np.ndarray) -> pa.Array:
    """One binary value (the row's float32 bytes) per row of the 2-D ``vectors``."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    n, dim = vectors.shape
    offsets = np.arange(0, (n + 1) * dim * 4, dim * 4, dtype=np.int64)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(vectors)]
    )


def decode(column: pa.ChunkedArray | pa.Array, dim: int | None) -> np.ndarray:
    """The ``(n, dim)`` float32 matrix of a stored ``vector`` column (binary or list<float>).

    Raises ``ValueError`` naming the first length that is not ``dim`` (when ``dim`` is given).
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    n = sum(len(c) for c in chunks)
    parts = [_decode_chunk(c, dim) for c in chunks if len(c)]
    if not parts:
        return np.zeros((0, dim or 0), dtype=np.float32)
    if len(parts) == 1:
        return parts[0]  # a read-only view of the Arrow buffer: no copy
    width = parts[0].shape[1]
    if any(p.shape[1] != width for p in parts):
        raise ValueError(f"stores {sorted({p.shape[1] for p in parts})[-1]}-d vectors")
    out = np.empty((n, width), dtype=np.float32)
    start = 0
    for p in parts:
        out[start : start + len(p)] = p
        start += len(p)
    return out


def _decode_chunk(chunk: pa.Array, dim: int | None) -> np.ndarray:
    import pyarrow.compute as pc

    if chunk.null_count:
        raise ValueError("stored vectors contain nulls")
    if pa.types.is_binary(chunk.type) or pa.types.is_large_binary(chunk.type):
        lengths = pc.binary_length(chunk).to_numpy()
        width = dim * 4 if dim is not None else int(lengths[0])
        if (lengths != width).any():
            raise ValueError(f"stores {int(lengths[lengths != width][0]) // 4}-d vectors")
        wide = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
        first = np.frombuffer(
            chunk.buffers()[1], dtype=wide, count=1, offset=chunk.offset * wide().itemsize
        )[0]
        data = np.frombuffer(
            chunk.buffers()[2], dtype="<f4", count=len(chunk) * width // 4, offset=int(first)
        )
        return data.reshape(len(chunk), width // 4)
    # The first format: list<float32>.
    lengths = pc.list_value_length(chunk).to_numpy()
    width = dim if dim is not None else int(lengths[0])
    if (lengths != width).any():
        raise ValueError(f"stores {int(lengths[lengths != width][0])}-d vectors")
    flat = chunk.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(len(chunk), width)


def row_groups(dt: Any) -> list[tuple[str, int, int]]:
    """``(file uri, row group id, rows)`` of every row group of the open Delta table ``dt``."""
    import pyarrow.parquet as pq

    out = []
    local = local_files(dt)
    if local is not None:
        for uri in local:
            meta = pq.ParquetFile(uri).metadata
            out += [(uri, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
        return out
    for fragment in dt.to_pyarrow_dataset().get_fragments():
        fragment.ensure_complete_metadata()
        out += [(fragment.path, g.id, g.num_rows) for g in fragment.row_groups]
    return out


def read_row_groups(dt: Any, groups: list[tuple[str, int]] | None, columns: list[str]) -> pa.Table:
    """``columns`` of the given ``(file, row group)`` pairs of ``dt`` (None: every row)."""
    import pyarrow.parquet as pq

    local = local_files(dt)
    wanted: dict[str, list[int]] = {}
    if groups is None:
        groups = [(uri, g) for uri, g, _ in row_groups(dt)]
    for uri, g in groups:
        wanted.setdefault(uri, []).append(int(g))
    tables = []
    if local is not None:
        known = set(local)
        for uri, ids in wanted.items():
            if uri not in known:
                raise FileNotFoundError(f"{uri} is not a file of this version of the table")
            # One thread: partitions already run side by side, and on 2 busy cores pyarrow's
            # threads made a read 2-3x slower.
            tables.append(
                pq.ParquetFile(uri).read_row_groups(ids, columns=columns, use_threads=False)
            )
    else:
        ds = dt.to_pyarrow_dataset()
        fragments = {f.path: f for f in ds.get_fragments()}
        for uri, ids in wanted.items():
            if uri not in fragments:
                raise FileNotFoundError(f"{uri} is not a file of this version of the table")
            part = fragments[uri].subset(row_group_ids=ids)
            tables.append(part.to_table(schema=ds.schema, columns=columns))
    if not tables:
        schema = pa.schema(dt.schema())
        return pa.schema([schema.field(c) for c in columns]).empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def read_matching(dt: Any, wanted: pa.Array) -> pa.Table | None:
    """content_hash and vector of the rows whose hash is in ``wanted``, for a table on the
    local disk (None otherwise).

    DuckDB decodes the vector of the matching rows only (late materialisation): 1,000 random
    hashes out of a million took 2.2 s here against 7.4 s reading whole row groups.
    """
    import duckdb

    files = local_files(dt)
    if files is None:
        return None
    if not files:
        return pa.table(
            {"content_hash": pa.array([], pa.string()), "vector": pa.array([], pa.binary())}
        )
    con = duckdb.connect()
    try:
        con.register("_wanted", pa.table({"h": wanted}))
        return con.sql(
            "SELECT content_hash, vector FROM read_parquet($files) "
            "WHERE content_hash IN (SELECT h FROM _wanted)",
            params={"files": files},
        ).to_arrow_table()
    finally:
        con.close()


def local_files(dt: Any) -> list[str] | None:
    """The table's data files as local paths, or None when it is not on the local disk."""
    uris = dt.file_uris()
    if all(u.startswith("/") for u in uris):
        return list(uris)
    if all(u.startswith("file://") for u in uris):
        return [u[len("file://") :] for u in uris]
    return None
