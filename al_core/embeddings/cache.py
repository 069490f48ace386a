"""A persistent embedding cache keyed by model id and text content hash.

Layout under ``root`` (the workspace passes ``<workspace>/embeddings``)::

    <root>/<model slug>/model.json                      {"model_id", "dimension", "embedder"}
    <root>/<model slug>/part-<UTC timestamp>-<uuid>.parquet

Each part holds two columns, ``content_hash`` (string, :func:`al_core.hashing.content_hash` of
the text) and ``vector`` (``fixed_size_list<float32>[dimension]``). Parts are append-only and
written atomically (:func:`al_core.storage.atomic.atomic_write_parquet`); a crashed write leaves
at most a hidden ``.tmp-*.partial`` file, which readers ignore. The model slug is the model id
when it is already a safe directory name, otherwise a sanitised form plus 8 hex of the id's hash
(so two ids never share a directory).

:meth:`EmbeddingCache.get_or_compute` reads only the rows whose hashes it needs (DuckDB filters
the parts against the wanted hash set), embeds only the missing unique texts, and appends them
as ONE new part. A text is therefore embedded once per model, ever, across processes and
cache instances. Two processes that embed the same new text at the same moment may both append
it; readers tolerate such duplicates (the first row wins; they hold the same vector) and
:meth:`EmbeddingCache.compact` removes them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.embeddings.base import Embedder
from al_core.embeddings.tfidf import as_text_list
from al_core.hashing import content_hashes as _hash_texts

PART_GLOB = "part-*.parquet"
MODEL_FILE = "model.json"
_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class EmbeddingCacheError(RuntimeError):
    """The cache cannot serve the request (wrong embedder, inconsistent stored data)."""


class DimensionMismatchError(EmbeddingCacheError):
    """Stored vectors and the embedder (or two stored parts) disagree on the dimension."""


def model_slug(model_id: str) -> str:
    """Directory name for ``model_id``: the id itself when safe, else sanitised + id hash."""
    if not model_id:
        raise ValueError("model_id must be a non-empty string")
    if _SAFE_SLUG.fullmatch(model_id) and not model_id.endswith("."):
        return model_id
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[:80] or "model"
    return f"{safe}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:8]}"


def _part_name() -> str:
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}Z"
    return f"part-{stamp}-{uuid.uuid4().hex}.parquet"


class EmbeddingCache:
    """Embeddings of cacheable embedders, persisted per model id under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        #: Facts about the latest :meth:`get_or_compute` call: ``texts``, ``unique``,
        #: ``cached`` (unique texts read from disk), ``embedded`` (unique texts embedded now).
        self.last_stats: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.root)!r})"

    # -- layout --------------------------------------------------------------------------------

    def model_dir(self, model_id: str) -> Path:
        return self.root / model_slug(model_id)

    def parts(self, model_id: str) -> list[Path]:
        """Committed part files of ``model_id``, oldest first (temporary files excluded)."""
        d = self.model_dir(model_id)
        if not d.is_dir():
            return []
        return sorted(p for p in d.glob(PART_GLOB) if p.is_file())

    def model_ids(self) -> list[str]:
        """Model ids with a directory in the cache, sorted."""
        if not self.root.is_dir():
            return []
        ids = []
        for d in sorted(self.root.iterdir()):
            info = self._read_info(d)
            if info is not None:
                ids.append(str(info["model_id"]))
        return sorted(ids)

    def _read_info(self, d: Path) -> dict[str, Any] | None:
        f = d / MODEL_FILE
        if not f.is_file():
            return None
        return json.loads(f.read_text(encoding="utf-8"))

    def _info(self, model_id: str) -> dict[str, Any] | None:
        info = self._read_info(self.model_dir(model_id))
        if info is not None and info.get("model_id") != model_id:
            raise EmbeddingCacheError(
                f"cache directory {self.model_dir(model_id)} belongs to model "
                f"{info.get('model_id')!r}, not {model_id!r}"
            )
        return info

    def dimension(self, model_id: str) -> int | None:
        """Vector size stored for ``model_id``; None when nothing is stored yet."""
        info = self._info(model_id)
        if info is not None:
            return int(info["dimension"])
        return None

    # -- reading -------------------------------------------------------------------------------

    def _checked_parts(self, model_id: str) -> tuple[list[Path], int | None]:
        """Parts plus their common dimension; every part must match model.json."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = self.parts(model_id)
        dim = self.dimension(model_id)
        for p in parts:
            field = pq.read_schema(p).field("vector")
            if not pa.types.is_fixed_size_list(field.type):
                raise EmbeddingCacheError(f"{p}: column 'vector' is {field.type}, not a fixed list")
            if dim is None:
                dim = field.type.list_size
            elif field.type.list_size != dim:
                raise DimensionMismatchError(
                    f"{p} stores {field.type.list_size}-d vectors but model {model_id!r} "
                    f"is {dim}-d in this cache"
                )
        return parts, dim

    def lookup(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of those ``hashes`` that are cached, as ``{hash: vector}``."""
        import pyarrow as pa
        import pyarrow.compute as pc

        found, matrix = self._lookup(model_id, pc.unique(pa.array(list(hashes), pa.string())))
        out: dict[str, np.ndarray] = {}
        for i, h in enumerate(found.to_pylist()):
            out.setdefault(h, matrix[i])
        return out

    def _lookup(self, model_id: str, wanted: Any) -> tuple[Any, np.ndarray]:
        """``(hashes, matrix)`` of the stored rows whose hash is in ``wanted`` (an Arrow string
        array of unique hashes); row ``i`` of ``matrix`` is the vector of ``hashes[i]``.

        DuckDB filters the parts against the wanted set, so only matching rows are returned.
        A hash may appear twice (concurrent appends); both rows hold the same vector.
        """
        import pyarrow as pa

        parts, dim = self._checked_parts(model_id)
        if not parts or len(wanted) == 0:
            return pa.array([], pa.string()), np.zeros((0, dim or 0), dtype=np.float32)
        return self._query(parts, dim, wanted)

    def _query(
        self, parts: list[Path], dim: int | None, wanted: Any | None
    ) -> tuple[Any, np.ndarray]:
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        try:
            files = [str(p) for p in parts]
            sql = "SELECT content_hash, vector FROM read_parquet($files)"
            if wanted is not None:
                con.register("wanted", pa.table({"h": wanted}))
                sql += " WHERE content_hash IN (SELECT h FROM wanted)"
            table = con.sql(sql, params={"files": files}).to_arrow_table()
        finally:
            con.close()
        hashes = table.column("content_hash").combine_chunks()
        flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        n = table.num_rows
        if dim is None:
            dim = flat.size // n if n else 0
        if flat.size != n * dim:
            raise DimensionMismatchError(f"stored vectors are not all {dim}-d in {parts[0].parent}")
        return hashes, np.asarray(flat, dtype=np.float32).reshape(n, dim)

    def count(self, model_id: str) -> int:
        """Number of distinct texts cached for ``model_id``."""
        import duckdb

        parts = self.parts(model_id)
        if not parts:
            return 0
        con = duckdb.connect()
        try:
            rel = con.sql(
                "SELECT count(DISTINCT content_hash) FROM read_parquet($files)",
                params={"files": [str(p) for p in parts]},
            )
            return int(rel.fetchall()[0][0])
        finally:
            con.close()

    # -- writing -------------------------------------------------------------------------------

    def put(
        self, model_id: str, hashes: Sequence[str], vectors: np.ndarray, embedder: str = ""
    ) -> Path | None:
        """Append ``vectors`` (rows aligned with ``hashes``) as one new part; returns its path.

        Does not check for hashes already stored; :meth:`get_or_compute` only puts new ones.
        """
        import pyarrow as pa

        from al_core.storage.atomic import atomic_write_json, atomic_write_parquet

        hashes = list(hashes)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(hashes):
            raise ValueError(
                f"vectors must be 2-D with one row per hash: got shape {vectors.shape} "
                f"for {len(hashes)} hashes"
            )
        if not hashes:
            return None
        if not np.isfinite(vectors).all():
            raise ValueError("refusing to cache non-finite vectors (NaN or inf)")
        dim = int(vectors.shape[1])
        stored = self.dimension(model_id)
        if stored is not None and stored != dim:
            raise DimensionMismatchError(
                f"embedder output is {dim}-d but the cache holds {stored}-d vectors for model "
                f"{model_id!r} ({self.model_dir(model_id)}); a model id must always produce "
                "vectors of one size"
            )
        d = self.model_dir(model_id)
        if stored is None:
            atomic_write_json(
                d / MODEL_FILE, {"model_id": model_id, "dimension": dim, "embedder": embedder}
            )
        values = pa.array(vectors.reshape(-1), type=pa.float32())
        table = pa.table(
            {
                "content_hash": pa.array(hashes, type=pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(values, dim),
            }
        ).replace_schema_metadata({"alflow.model_id": model_id, "alflow.dimension": str(dim)})
        return atomic_write_parquet(d / _part_name(), table)

    def compact(self, model_id: str) -> Path | None:
        """Merge all parts of ``model_id`` into one, dropping duplicate hashes.

        Run it when no other process is reading or writing this model's cache: parts are
        deleted after the merged part is committed.
        """
        parts, dim = self._checked_parts(model_id)
        if len(parts) < 2:
            return parts[0] if parts else None
        import pyarrow.compute as pc

        hashes, vectors = self._query(parts, dim, None)
        unique = pc.unique(hashes)
        rows = pc.index_in(unique, value_set=hashes).to_numpy()  # first occurrence of each
        info = self._info(model_id) or {}
        new = self.put(
            model_id, unique.to_pylist(), vectors[rows], embedder=info.get("embedder", "")
        )
        for p in parts:
            p.unlink(missing_ok=True)
        return new

    # -- the main entry point ------------------------------------------------------------------

    def get_or_compute(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        content_hashes: Sequence[str] | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """Vectors of ``texts`` (float32, rows aligned with the input).

        ``content_hashes`` (optional) must be :func:`al_core.hashing.content_hash` of each text,
        as stored in the pool; they are computed when omitted. Cached vectors are read; the
        missing unique texts are embedded in one ``embedder.transform`` call and appended as
        one new part.
        """
        if not getattr(embedder, "cacheable", False):
            raise EmbeddingCacheError(
                f"embedder {getattr(embedder, 'name', type(embedder).__name__)!r} is not "
                "cacheable (it is fitted on the corpus, so a text's vector is not fixed); "
                "call its fit/transform directly instead"
            )
        import pyarrow as pa
        import pyarrow.compute as pc

        texts = as_text_list(texts)
        hashes = _hash_texts(texts) if content_hashes is None else list(content_hashes)
        if len(hashes) != len(texts):
            raise ValueError(
                f"got {len(texts)} texts but {len(hashes)} content hashes; they must align"
            )
        try:
            harr = pa.array(hashes, type=pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            raise TypeError(f"content hashes must be str: {exc}") from exc
        if harr.null_count:
            raise TypeError("content hashes must be str, got None")
        model_id = embedder.model_id

        unique = pc.unique(harr)
        found, matrix = self._lookup(model_id, unique)
        pos = pc.index_in(harr, value_set=found)  # row of each input in `matrix`, or null
        n_missing = 0
        if pos.null_count:
            missing = pc.unique(harr.filter(pc.is_null(pos)))
            n_missing = len(missing)
            first = pc.index_in(missing, value_set=harr).to_numpy()  # a text for each hash
            new = embedder.transform([texts[i] for i in first], progress=progress)
            new = _as_dense_matrix(new, len(missing), embedder)
            self.put(model_id, missing.to_pylist(), new, embedder=embedder.name)
            matrix = new if matrix.shape[0] == 0 else np.concatenate([matrix, new])
            found = pa.concat_arrays([found, missing])
            pos = pc.index_in(harr, value_set=found)
        self.last_stats = {
            "texts": len(texts),
            "unique": len(unique),
            "cached": len(unique) - n_missing,
            "embedded": n_missing,
        }
        if not texts:
            dim = self.dimension(model_id)
            if dim is None:  # empty input and nothing stored: the embedder knows the shape
                return _as_dense_matrix(embedder.transform([], progress=False), 0, embedder)
            return np.zeros((0, dim), dtype=np.float32)
        return matrix[pos.to_numpy()]


def _as_dense_matrix(vectors: Any, n: int, embedder: Embedder) -> np.ndarray:
    if hasattr(vectors, "toarray"):
        raise EmbeddingCacheError(f"embedder {embedder.name!r} returned a sparse matrix")
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise EmbeddingCacheError(
            f"embedder {embedder.name!r} returned shape {arr.shape} for {n} texts; "
            "expected (n, dimension)"
        )
    return arr
