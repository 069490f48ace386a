"""A persistent embedding cache keyed by model id and text content hash.

Layout under ``root`` (the workspace passes its ``embeddings`` folder; a local folder or an
object-store prefix)::

    <root>/<model slug>/model.json     {"model_id", "dimension", "embedder"}
    <root>/<model slug>/vectors/       a Delta table: content_hash, vector (float32 bytes)

(the vector encoding and the fast reader are in :mod:`al_core.embeddings.vector_files`).
:meth:`EmbeddingCache.get_or_compute` reads the hash column, then the vectors of only the row
groups holding a wanted hash, embeds only the missing unique texts, and appends them in ONE
Delta commit. A text is therefore embedded once per model, ever, across
processes and cache instances. Two processes that embed the same new text at the same moment
may both append it (Delta retries the second commit); readers tolerate such duplicates (they
hold the same vector) and :meth:`EmbeddingCache.compact` removes them. The model slug is the
model id when it is already a safe directory name, otherwise a sanitised form plus 8 hex of the
id's hash (so two ids never share a directory).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from al_core.embeddings import vector_files
from al_core.embeddings.base import Embedder
from al_core.embeddings.tfidf import as_text_list
from al_core.hashing import content_hashes as _hash_texts

MODEL_FILE = "model.json"
VECTORS = "vectors"
_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class EmbeddingCacheError(RuntimeError):
    """The cache cannot serve the request (wrong embedder, inconsistent stored data)."""


class DimensionMismatchError(EmbeddingCacheError):
    """Stored vectors and the embedder (or two stored files) disagree on the dimension."""


def model_slug(model_id: str) -> str:
    """Directory name for ``model_id``: the id itself when safe, else sanitised + id hash."""
    if not model_id:
        raise ValueError("model_id must be a non-empty string")
    if _SAFE_SLUG.fullmatch(model_id) and not model_id.endswith("."):
        return model_id
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("._-")[:80] or "model"
    return f"{safe}-{hashlib.sha256(model_id.encode('utf-8')).hexdigest()[:8]}"


class EmbeddingCache:
    """Embeddings of cacheable embedders, persisted per model id under ``root``."""

    def __init__(self, root: Any) -> None:
        from al_core.storage.location import Location

        self.location = root if isinstance(root, Location) else Location(root)
        self.location.check_delta_safe()
        #: Facts about the latest :meth:`get_or_compute` call: ``texts``, ``unique``,
        #: ``cached`` (unique texts read from disk), ``embedded`` (unique texts embedded now).
        self.last_stats: dict[str, int] = {}
        self._tables: dict[str, Any] = {}

    @property
    def root(self) -> str:
        return self.location.uri

    def __repr__(self) -> str:
        return f"EmbeddingCache({self.root!r})"

    # -- layout --------------------------------------------------------------------------------

    def model_dir(self, model_id: str) -> Path:
        """The local folder of ``model_id``'s cache (local caches only)."""
        return self.location.local(model_slug(model_id))

    def table_uri(self, model_id: str) -> str:
        return self.location.uri_of(model_slug(model_id), VECTORS)

    def _table(self, model_id: str):
        """The model's open Delta table (refreshed), or None when nothing is stored."""
        from deltalake import DeltaTable

        dt = self._tables.get(model_id)
        if dt is not None:
            dt.update_incremental()
            return dt
        uri = self.table_uri(model_id)
        if not DeltaTable.is_deltatable(uri, storage_options=self.location.storage_options):
            return None
        dt = DeltaTable(uri, storage_options=self.location.storage_options)
        self._tables[model_id] = dt
        return dt

    def files(self, model_id: str) -> list[str]:
        """Data files of ``model_id``'s current version (one per append until compacted)."""
        dt = self._table(model_id)
        return sorted(dt.file_uris()) if dt is not None else []

    def model_ids(self) -> list[str]:
        """Model ids with an entry in the cache, sorted."""
        ids = []
        for slug in self.location.list_dirs():
            if slug.startswith("."):  # a cache being dropped (see drop)
                continue
            info = self._read_info(slug)
            if info is not None:
                ids.append(str(info["model_id"]))
        return sorted(ids)

    def _read_info(self, slug: str) -> dict[str, Any] | None:
        key = f"{slug}/{MODEL_FILE}"
        if not self.location.is_file(key):
            return None
        return self.location.read_json(key)

    def _info(self, model_id: str) -> dict[str, Any] | None:
        info = self._read_info(model_slug(model_id))
        if info is not None and info.get("model_id") != model_id:
            raise EmbeddingCacheError(
                f"cache directory {self.location.uri_of(model_slug(model_id))} belongs to model "
                f"{info.get('model_id')!r}, not {model_id!r}"
            )
        return info

    def embedder_name(self, model_id: str) -> str | None:
        """Name of the embedder that filled ``model_id``'s cache; None when nothing is stored."""
        info = self._info(model_id)
        return None if info is None else info.get("embedder") or None

    def dimension(self, model_id: str) -> int | None:
        """Vector size stored for ``model_id``; None when nothing is stored yet."""
        info = self._info(model_id)
        if info is not None:
            return int(info["dimension"])
        return None

    # -- reading -------------------------------------------------------------------------------

    def lookup(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of those ``hashes`` that are cached, as ``{hash: vector}``."""
        import pyarrow as pa
        import pyarrow.compute as pc

        found, matrix = self._lookup(model_id, pc.unique(pa.array(list(hashes), pa.string())))
        out: dict[str, np.ndarray] = {}
        for i, h in enumerate(found.to_pylist()):
            out.setdefault(h, matrix[i])
        return out

    def _lookup(self, model_id: str, wanted: Any | None) -> tuple[Any, np.ndarray]:
        """``(hashes, matrix)`` of the stored rows whose hash is in ``wanted`` (an Arrow string
        array of unique hashes; None: every row); row ``i`` of ``matrix`` is the vector of
        ``hashes[i]``. A hash may appear twice (concurrent appends); both rows hold the same
        vector.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        dim = self.dimension(model_id)
        dt = self._table(model_id)
        if dt is None or (wanted is not None and len(wanted) == 0):
            return pa.array([], pa.string()), np.zeros((0, dim or 0), dtype=np.float32)
        groups = vector_files.row_groups(dt)
        columns = ["content_hash", "vector"]
        if wanted is None:
            table = vector_files.read_row_groups(dt, [(u, g) for u, g, _ in groups], columns)
        elif (table := vector_files.read_matching(dt, wanted)) is not None:
            pass  # a local table: DuckDB reads the matching rows' vectors only
        else:
            # The hash column first (cheap), then the vectors of the row groups with a hit.
            hashes = vector_files.read_row_groups(
                dt, [(u, g) for u, g, _ in groups], ["content_hash"]
            ).column(0)
            hit = pc.is_in(hashes, value_set=wanted).to_numpy(zero_copy_only=False)
            bounds = np.cumsum([0] + [n for _, _, n in groups])
            needed = [
                (u, g) for k, (u, g, _) in enumerate(groups) if hit[bounds[k] : bounds[k + 1]].any()
            ]
            table = vector_files.read_row_groups(dt, needed, columns)
            table = table.filter(pc.is_in(table.column("content_hash"), value_set=wanted))
        return table.column("content_hash").combine_chunks(), self._matrix(model_id, table, dim)

    def _matrix(self, model_id: str, table: Any, dim: int | None) -> np.ndarray:
        """The ``vector`` column of ``table`` as an ``(n, dim)`` float32 matrix."""
        try:
            return vector_files.decode(table.column("vector"), dim)
        except ValueError as exc:
            raise DimensionMismatchError(
                f"{self.table_uri(model_id)} {exc} but model {model_id!r} is {dim}-d in this cache"
            ) from None

    def _hashes(self, dt: Any) -> Any:
        """Every stored hash of the open table ``dt`` (the hash column only)."""
        groups = [(u, g) for u, g, _ in vector_files.row_groups(dt)]
        return vector_files.read_row_groups(dt, groups, ["content_hash"]).column(0)

    def local_files(self, model_id: str) -> list[str] | None:
        """The Parquet files of ``model_id``'s current vectors, when the cache is on the local
        disk and holds some (else None): for queries that join them in DuckDB."""
        dt = self._table(model_id)
        return (vector_files.local_files(dt) or None) if dt is not None else None

    def missing(self, model_id: str, hashes: Any) -> Any:
        """The distinct ``hashes`` (an Arrow string array or a list) with no stored vector.

        Reads only the hash column, so checking a million items costs a fraction of reading
        their vectors.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = pc.unique(
            hashes if isinstance(hashes, pa.Array) else pa.array(hashes, pa.string())
        )
        dt = self._table(model_id)
        if dt is None or len(wanted) == 0:
            return wanted
        stored = self._hashes(dt).combine_chunks()
        return wanted.filter(pc.invert(pc.is_in(wanted, value_set=stored)))

    # -- partitions ----------------------------------------------------------------------------

    def plan_partitions(self, model_id: str, rows: int) -> tuple[int | None, list[list[Any]]]:
        """Split ``model_id``'s stored vectors into partitions of about ``rows`` rows.

        Returns the table version the plan is for and, per partition, its Parquet row groups
        as ``[file, row group id]`` pairs (JSON-able, so a partition can be sent to another
        process). Every stored row is in exactly one partition.
        """
        if rows < 1:
            raise ValueError(f"rows per partition must be at least 1, got {rows}")
        dt = self._table(model_id)
        if dt is None:
            return None, []
        parts: list[list[Any]] = []
        current: list[Any] = []
        n = 0
        for uri, group, size in vector_files.row_groups(dt):
            current.append([uri, group])
            n += size
            if n >= rows:
                parts.append(current)
                current, n = [], 0
        if current:
            parts.append(current)
        return dt.version(), parts

    def read_partition(
        self, model_id: str, version: int, row_groups: list[Any], as_chunks: bool = False
    ) -> tuple[Any, Any]:
        """``(hashes, matrix)`` of the rows in ``row_groups`` of table version ``version`` (a
        partition of :meth:`plan_partitions`).

        ``as_chunks``: a list of matrices (consecutive rows), each a view of what was read,
        instead of one matrix (which costs a copy of the partition).
        """
        from al_core.storage.delta import open_table

        dt = open_table(
            self.table_uri(model_id), version, storage_options=self.location.storage_options
        )
        groups = [(str(u), int(g)) for u, g in row_groups]
        table = vector_files.read_row_groups(dt, groups, ["content_hash", "vector"])
        hashes = table.column("content_hash").combine_chunks()
        dim = self.dimension(model_id)
        if as_chunks:
            import pyarrow as pa

            vectors = table.column("vector").chunks
            return hashes, [self._matrix(model_id, pa.table({"vector": c}), dim) for c in vectors]
        return hashes, self._matrix(model_id, table, dim)

    def count(self, model_id: str) -> int:
        """Number of distinct texts cached for ``model_id``."""
        import pyarrow.compute as pc

        dt = self._table(model_id)
        if dt is None:
            return 0
        return len(pc.unique(self._hashes(dt)))

    # -- writing -------------------------------------------------------------------------------

    def put(
        self, model_id: str, hashes: Sequence[str], vectors: np.ndarray, embedder: str = ""
    ) -> int | None:
        """Append ``vectors`` (rows aligned with ``hashes``) in one commit; returns the version.

        Does not check for hashes already stored; :meth:`get_or_compute` only puts new ones.
        """
        import pyarrow as pa
        from deltalake import write_deltalake

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
                f"{model_id!r} ({self.location.uri_of(model_slug(model_id))}); a model id must "
                "always produce vectors of one size"
            )
        if stored is None:
            self.location.write_json(
                f"{model_slug(model_id)}/{MODEL_FILE}",
                {"model_id": model_id, "dimension": dim, "embedder": embedder},
            )
        dt = self._table(model_id)
        if dt is not None and pa.types.is_list(pa.schema(dt.schema()).field("vector").type):
            # A cache of the first format keeps its column type until compact() rewrites it.
            values = pa.array(vectors.reshape(-1), type=pa.float32())
            offsets = pa.array(np.arange(0, (len(hashes) + 1) * dim, dim, dtype=np.int32))
            column = pa.ListArray.from_arrays(offsets, values)
        else:
            column = vector_files.encode(vectors)
        table = pa.table({"content_hash": pa.array(hashes, type=pa.string()), "vector": column})
        write_deltalake(
            dt if dt is not None else self.table_uri(model_id),
            table,
            mode="append",
            storage_options=None if dt is not None else self.location.storage_options,
            writer_properties=vector_files.writer_properties(),
        )
        dt = self._table(model_id)
        return dt.version()

    def drop(self, model_id: str) -> None:
        """Delete everything cached for ``model_id``.

        Locally the folder is first renamed to a hidden name (one atomic step: readers see the
        whole cache or none), then removed; hidden leftovers of an interrupted drop go with the
        next one. On an object store ``model.json`` goes first, which hides the cache from
        :meth:`model_ids`, then the vectors.
        """
        import shutil
        import uuid

        slug = model_slug(model_id)
        if not self.location.exists(slug):
            return
        self._info(model_id)  # refuses a folder that holds another model id's cache
        self._tables.pop(model_id, None)
        if self.location.remote:
            self.location.delete(f"{slug}/{MODEL_FILE}")
            self.location.delete_dir(slug)
            return
        root = self.location.local()
        (root / slug).rename(root / f".dropped-{slug}-{uuid.uuid4().hex[:8]}")
        for leftover in root.glob(".dropped-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Folders an interrupted :meth:`drop` left: hidden ``.dropped-*`` folders (local) and
        folders without ``model.json`` (an object store's drop deletes that file first)."""
        return [
            slug
            for slug in self.location.list_dirs()
            if slug.startswith(".dropped-")
            or (not slug.startswith(".") and self._read_info(slug) is None)
        ]

    def remove_leftovers(self) -> list[str]:
        """Delete what :meth:`leftovers` lists; returns it. The caller makes sure no writer of
        this cache runs (a cache being created has no ``model.json`` for a moment)."""
        gone = self.leftovers()
        for slug in gone:
            self.location.delete_dir(slug)
        return gone

    def compact(self, model_id: str) -> int | None:
        """Rewrite ``model_id``'s vectors as few large files, dropping duplicate hashes.

        A Delta overwrite (in the current vector encoding): readers of the previous version
        keep working; the old files stay on disk until vacuumed.
        """
        import pyarrow as pa
        import pyarrow.compute as pc
        from deltalake import write_deltalake

        dt = self._table(model_id)
        if dt is None:
            return None
        hashes, matrix = self._lookup(model_id, None)
        unique = pc.unique(hashes)
        first = pc.index_in(unique, value_set=hashes).to_numpy()  # first row of each hash
        write_deltalake(
            dt,
            pa.table({"content_hash": unique, "vector": vector_files.encode(matrix[first])}),
            mode="overwrite",
            schema_mode="overwrite",
            writer_properties=vector_files.writer_properties(),
        )
        return self._table(model_id).version()

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
