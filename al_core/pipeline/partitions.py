"""Embedding and scoring of the pool, split into partitions that can run anywhere.

Both steps of an iteration that touch every item of the pool are planned as a list of small,
JSON-able partition specs and run by a function of plain arguments (the workspace's URI, a
model path, a spec), so a flow can map them over a task runner: threads in this process by
default, or the workers of a Dask cluster (see ``flows/iteration.py``). The result does not
depend on how the work is split or where it runs:

* **embedding** (:func:`plan_embedding`, :func:`embed_partition`): the distinct content hashes
  of the pool that the embedding cache lacks, cut into ranges of the hash; each partition embeds
  the texts of its range that are still missing and appends them to the cache (one commit).
* **scoring** (:func:`plan_scoring`, :func:`score_partition`): for a cacheable embedder a
  partition is a set of Parquet row groups of the cache at a pinned version, so each stored
  vector is read exactly once and the pool's texts are never loaded; for a fitted embedder
  (TF-IDF) it is the pool items with ``hash(id) % n == k`` at a pinned workspace snapshot,
  transformed with the model's own embedder. Each partition returns, per row, its key (content
  hash or id), the strategy's score, the predicted class and the probability the model gives
  it (the confidence the export shows annotators); :func:`gather_scores` puts them in
  candidate order, and the selection draws its seeded tie-breaks over the candidates exactly as
  :meth:`al_core.query.QueryStrategy.query` does.

Only strategies whose score of an item depends on that item's class probabilities alone
(:class:`~al_core.query.uncertainty.ProbabilityScoreStrategy`) can be scored by partition; the
others keep the whole-pool path.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from al_core.embeddings import EmbeddingCache
from al_core.registry import make_embedder
from al_core.storage import Snapshot, Workspace

# Rows per scoring partition (about 200 MB of 384-d float32 vectors); embedding partitions
# are smaller, since a partition is also the unit of work that a crash loses.
SCORE_ROWS = 131_072
EMBED_ROWS = 50_000


def cache_of(ws: Workspace) -> EmbeddingCache:
    return EmbeddingCache(ws.location.child("embeddings"))


# -- embedding ---------------------------------------------------------------------------------


def plan_embedding(ws: Workspace, embedder_name: str | None, rows: int = EMBED_ROWS) -> list[dict]:
    """Partitions of the pool's texts missing from the cache (none for fitted embedders, nor
    without an embedder: classifiers that read texts themselves).

    Each spec is ``{"embedder", "low", "high"}``: the content hashes ``low <= h < high``
    (``high`` None: no upper bound) hold about ``rows`` missing texts.
    """
    if embedder_name is None:
        return []
    embedder = make_embedder(embedder_name)
    if not embedder.cacheable:
        return []
    cache = cache_of(ws)
    files = cache.local_files(embedder.model_id)
    with ws.reading() as con:
        if files is None:
            hashes = con.sql("SELECT DISTINCT content_hash FROM pool").to_arrow_table()
            missing = cache.missing(embedder.model_id, hashes.column(0).combine_chunks())
        else:
            # One anti-join in DuckDB: at a million items 0.4 s, against 1.4-2.8 s for
            # handing every hash to Arrow (the path a remote cache takes).
            missing = (
                con.sql(
                    "SELECT DISTINCT p.content_hash FROM pool p "
                    "ANTI JOIN read_parquet($files) c USING (content_hash)",
                    params={"files": files},
                )
                .to_arrow_table()
                .column(0)
                .combine_chunks()
            )
    if len(missing) == 0:
        return []
    ordered = np.sort(np.asarray(missing.to_pylist(), dtype=object))
    lows = ordered[:: max(1, int(rows))].tolist()
    highs = lows[1:] + [None]
    return [
        {"embedder": embedder_name, "low": lo, "high": hi}
        for lo, hi in zip(lows, highs, strict=True)
    ]


def embed_partition(workspace: str, spec: dict, progress: bool = False) -> dict[str, Any]:
    """Embed the texts of ``spec``'s hash range that the cache still lacks; append them."""
    ws = Workspace.open(workspace, recover=False)  # opened once per partition: see open()
    embedder = make_embedder(spec["embedder"])
    sql = "SELECT content_hash, any_value(text) AS text FROM pool WHERE content_hash >= ?"
    params: list[Any] = [spec["low"]]
    if spec["high"] is not None:
        sql += " AND content_hash < ?"
        params.append(spec["high"])
    with ws.reading() as con:
        items = con.sql(sql + " GROUP BY content_hash", params=params).to_arrow_table()
    cache = cache_of(ws)
    missing = cache.missing(embedder.model_id, items.column("content_hash").combine_chunks())
    started = time.perf_counter()
    if len(missing):
        import pyarrow.compute as pc

        rows = pc.index_in(missing, value_set=items.column("content_hash")).to_numpy()
        texts = items.column("text").take(rows).to_pylist()
        vectors = np.asarray(embedder.transform(texts, progress=progress), dtype=np.float32)
        cache.put(embedder.model_id, missing.to_pylist(), vectors, embedder=embedder.name)
    return {"embedded": len(missing), "seconds": time.perf_counter() - started}


def summarize_embedding(embedder_name: str | None, results: list[dict], seconds: float) -> dict:
    """The embedding step's report from its partitions' results."""
    if embedder_name is None:
        return {"embedder": None, "cacheable": False, "embedded": 0}
    embedder = make_embedder(embedder_name)
    if not embedder.cacheable:
        return {"embedder": embedder_name, "cacheable": False, "embedded": 0}
    return {
        "embedder": embedder_name,
        "model_id": embedder.model_id,
        "cacheable": True,
        "embedded": int(sum(r["embedded"] for r in results)),
        "partitions": len(results),
        "embed_seconds": round(sum(r["seconds"] for r in results), 3),
        "seconds": round(seconds, 3),
    }


# -- scoring -----------------------------------------------------------------------------------


def plan_scoring(ws: Workspace, model: Any, rows: int = SCORE_ROWS) -> list[dict]:
    """Partitions covering every item the model can score (see the module docstring)."""
    if getattr(model.embedder, "cacheable", False):
        version, parts = cache_of(ws).plan_partitions(model.embedder.model_id, rows)
        return [
            {"kind": "cache", "model_id": model.embedder.model_id, "version": version, "groups": g}
            for g in parts
        ]
    snapshot = ws.snapshot()
    n_pool = int(ws.scalar("SELECT count(*) FROM pool WHERE role = 'pool'"))
    count = max(1, -(-n_pool // max(1, int(rows))))
    return [
        {
            "kind": "pool",
            "seq": snapshot.seq,
            "versions": snapshot.versions,
            "modulus": count,
            "part": k,
        }
        for k in range(count)
    ]


def score_partition(
    workspace: str, model_path: str, strategy_name: str, spec: dict
) -> dict[str, Any]:
    """Scores of the rows of one partition: ``keys``, ``scores``, ``predicted``,
    ``confidence``, timings.

    ``keys`` are content hashes (cache partitions) or item ids (pool partitions); ``predicted``
    is the classifier's predicted class index of each row, ``confidence`` its probability.
    ``read_seconds``: opening the workspace, loading the model, reading the rows or cached
    vectors; ``compute_seconds``: features computed here (a fitted transform, SetFit's body)
    and the scores.
    """
    import pyarrow as pa

    from al_core.pipeline.model import load_model
    from al_core.registry import make_strategy

    started = time.perf_counter()
    ws = Workspace.open(workspace, recover=False)  # opened once per partition: see open()
    model = load_model(model_path)
    if spec["kind"] == "cache":
        keys, chunks = cache_of(ws).read_partition(
            spec["model_id"], spec["version"], spec["groups"], as_chunks=True
        )
        read = time.perf_counter()
    else:
        snapshot = Snapshot(seq=spec["seq"], versions=dict(spec["versions"]))
        with ws.reading(snapshot) as con:
            items = con.execute(
                "SELECT id, text, content_hash FROM pool WHERE role = 'pool' "
                "AND hash(id) % ? = ? ORDER BY id",
                [int(spec["modulus"]), int(spec["part"])],
            ).df()
        keys = pa.array(items["id"].tolist(), pa.string())
        read = time.perf_counter()
        # Computing, not reading: a fitted transform, or a classifier's own text encoder
        # (SetFit's body, through the embedding cache).
        chunks = [model.features(ws, items)]
    strategy = make_strategy(strategy_name)
    scored = [score_rows(model.classifier, strategy, X) for X in chunks]
    scores, predicted, confidence = (
        (np.concatenate(cols) for cols in zip(*scored, strict=True)) if scored else _no_scores()
    )
    done = time.perf_counter()
    return {
        "keys": keys,
        "scores": scores,
        "predicted": predicted,
        "confidence": confidence,
        "rows": len(scores),
        "pid": os.getpid(),  # where it ran (a thread here, or a Dask worker process)
        "read_seconds": read - started,
        "compute_seconds": done - read,
    }


def _no_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.empty(0), np.empty(0, dtype=np.int64), np.empty(0)


def score_rows(clf: Any, strategy: Any, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The strategy's score, the classifier's predicted class and that class's probability,
    for every row of ``X``.

    In chunks of the strategy's ``chunk_size`` rows (slices, not copies), with one BLAS
    thread: partitions run side by side already (scoring 135k x 384 rows took 0.20 s so
    against 0.30-0.36 s with two BLAS threads here).
    """
    from al_core.classifiers.base import Classifier
    from al_core.device import single_thread_blas
    from al_core.features import num_rows

    n = num_rows(X)
    if n == 0:
        return _no_scores()
    step = int(getattr(strategy, "chunk_size", 8192))
    default_predict = type(clf).predict is Classifier.predict
    scores, predicted, confidence = [], [], []
    with single_thread_blas():
        for start in range(0, n, step):
            part = X[start : start + step]
            proba = np.asarray(clf.predict_proba(part), dtype=np.float64)
            if proba.ndim != 2 or proba.shape[0] != num_rows(part):
                raise ValueError(f"{strategy.name}: predict_proba returned shape {proba.shape}")
            if not np.all(np.isfinite(proba)):
                raise ValueError(f"{strategy.name}: predict_proba returned non-finite values")
            scores.append(np.asarray(strategy.score_proba(proba), dtype=np.float64))
            # The default predict is the most probable class; others are asked.
            pred = np.asarray(
                proba.argmax(axis=1) if default_predict else clf.predict(part), dtype=np.int64
            )
            predicted.append(pred)
            confidence.append(proba[np.arange(len(pred)), pred])
    return np.concatenate(scores), np.concatenate(predicted), np.concatenate(confidence)


def gather_scores(
    parts: list[dict[str, Any]], keys: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(scores, predicted, confidence, found)`` of each of ``keys`` (Arrow strings) from
    partition results; ``found`` is False where no partition scored the key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not parts:
        n = len(keys)
        return np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=bool)
    all_keys = pa.concat_arrays([pa.array(p["keys"], pa.string()) for p in parts])
    pos = pc.index_in(keys, value_set=all_keys)
    found = pc.is_valid(pos).to_numpy(zero_copy_only=False)
    idx = pos.fill_null(0).to_numpy(zero_copy_only=False)

    def column(name: str, dtype: type) -> np.ndarray:
        return np.concatenate([np.asarray(p[name], dtype=dtype) for p in parts])[idx]

    return (
        column("scores", np.float64),
        column("predicted", np.int64),
        column("confidence", np.float64),
        found,
    )


def select_by_partitions(
    ws: Workspace,
    model: Any,
    model_path: str,
    strategy: Any,
    candidates: Any,
    seed: int,
    n: int,
    parts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``n`` best ``candidates`` (id, content_hash; sorted by id) by partition scores.

    ``parts`` are the results of :func:`score_partition` over :func:`plan_scoring`'s specs
    (scored here when None). Candidates no partition covered (ingested after the plan) are
    scored here. Ties are broken exactly as :meth:`QueryStrategy.query` breaks them, so the
    selection equals the whole-pool path's for the same seed.
    """
    import pyarrow as pa

    from al_core.pipeline.model import encode_targets
    from al_core.pipeline.state import items_by_id, labelled_items
    from al_core.query.base import top_n

    labelled = labelled_items(ws, texts=False)
    strategy.check_compatible(model.classifier, encode_targets(model.label_set, labelled["labels"]))
    if parts is None:
        parts = run_local(
            score_partition, plan_scoring(ws, model), ws.uri, model_path, strategy.name
        )
    cacheable = getattr(model.embedder, "cacheable", False)
    keys = pa.array((candidates.content_hash if cacheable else candidates.id).tolist(), pa.string())
    scores, predicted, confidence, found = gather_scores(parts, keys)
    if not found.all():
        late = items_by_id(ws, candidates.id[~found].tolist())
        X = model.features(ws, late)
        scores[~found], predicted[~found], confidence[~found] = score_rows(
            model.classifier, strategy, X
        )
    order = top_n(scores, n, np.random.default_rng(seed))
    names = model.label_set.names
    return {
        "strategy": strategy.name,
        "items": [
            {
                "id": candidates.id.iat[int(i)],
                "score": float(scores[i]),
                "rank": r,
                "predicted": [names[int(predicted[i])]],
                "confidence": float(confidence[i]),
            }
            for r, i in enumerate(order)
        ],
    }


def run_local(fn, specs: list[dict], *args: Any) -> list[Any]:
    """Run ``fn(*args, spec)`` for each spec here, in order (the mapping without Prefect)."""
    return [fn(*args, spec) for spec in specs]
