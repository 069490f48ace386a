"""Delta Lake tables against the first format (Parquet parts found by a directory glob).

The same work on both, in the same run: 1M pool-like rows in 10 appends; 1,000 small appends
(10 label-event rows each, what a busy labelling queue produces); then the reads the pipeline
makes (count, group-by, a filter on a list of ids) over DuckDB. For Delta the reads go through
the Arrow dataset of a pinned version (as the workspace does) and are repeated after compaction.

    python benchmarks/storage_formats.py [--rows 1000000] [--small 1000]

Prints and saves ``benchmarks/results/storage_formats.json``. The machine is shared: compare
the two formats within the run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

RESULTS = Path(__file__).resolve().parent / "results" / "storage_formats.json"


def pool_batch(start: int, n: int) -> pa.Table:
    ids = [f"id{i:08d}" for i in range(start, start + n)]
    return pa.table(
        {
            "id": ids,
            "text": [
                f"a question about topic {i % 977} number {i}" for i in range(start, start + n)
            ],
            "content_hash": [f"{i:064x}" for i in range(start, start + n)],
            "role": ["pool"] * n,
        }
    )


def events_batch(k: int, n: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"id{(k * n + i) * 37 % 1_000_000:08d}" for i in range(n)],
            "labels": [["LOC"]] * n,
            "annotator": ["ann"] * n,
            "created_at": pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


class Parts:
    name = "parquet-parts"

    def __init__(self, root: Path) -> None:
        self.root = root

    def append(self, table: str, data: pa.Table) -> None:
        folder = self.root / table
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        pq.write_table(data, tmp, compression="zstd")
        tmp.rename(folder / f"part-{uuid.uuid4().hex}.parquet")

    def register(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        glob = str(self.root / table / "*.parquet")
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{glob}')")

    def compact(self, table: str) -> None:
        pass  # the first format had no compaction


class Delta:
    name = "delta"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.handles: dict = {}

    def append(self, table: str, data: pa.Table) -> None:
        from deltalake import DeltaTable, WriterProperties, write_deltalake

        uri = str(self.root / table)
        dt = self.handles.get(table)
        write_deltalake(
            dt if dt is not None else uri,
            data,
            mode="append",
            writer_properties=WriterProperties(compression="ZSTD"),
        )
        if dt is None:
            self.handles[table] = DeltaTable(uri)

    def register(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        from deltalake import DeltaTable

        dt = DeltaTable(str(self.root / table))
        con.register(table, dt.to_pyarrow_dataset())

    def compact(self, table: str) -> None:
        from deltalake import DeltaTable

        DeltaTable(str(self.root / table)).optimize.compact()


def reads(store, wanted: list[str]) -> dict[str, float]:
    con = duckdb.connect()
    out = {}
    out["open_s"], _ = timed(lambda: [store.register(con, t) for t in ("pool", "label_events")])
    out["count_s"], _ = timed(lambda: con.execute("SELECT count(*) FROM pool").fetchone())
    out["group_by_s"], _ = timed(
        lambda: con.execute(
            "SELECT annotator, count(*) FROM label_events GROUP BY annotator"
        ).fetchall()
    )
    out["filter_ids_s"], _ = timed(
        lambda: con.execute(
            "SELECT count(*) FROM pool WHERE list_contains(?, id)", [wanted]
        ).fetchone()
    )
    out["join_s"], _ = timed(
        lambda: con.execute(
            "SELECT count(*) FROM pool p JOIN (SELECT DISTINCT id FROM label_events) e USING (id)"
        ).fetchone()
    )
    con.close()
    return {k: round(v, 4) for k, v in out.items()}


def run(rows: int, small: int) -> dict:
    results = {}
    rng = np.random.default_rng(0)
    wanted = [f"id{i:08d}" for i in rng.choice(rows, size=1000, replace=False)]
    for cls in (Parts, Delta):
        with tempfile.TemporaryDirectory() as tmp:
            store = cls(Path(tmp))
            step = rows // 10
            big_s, _ = timed(
                lambda store=store, step=step: [
                    store.append("pool", pool_batch(k * step, step)) for k in range(10)
                ]
            )
            small_s, _ = timed(
                lambda store=store: [
                    store.append("label_events", events_batch(k, 10)) for k in range(small)
                ]
            )
            entry = {
                "append_1M_in_10_s": round(big_s, 3),
                f"append_{small}_small_s": round(small_s, 3),
                "per_small_append_ms": round(1000 * small_s / small, 2),
                "reads": reads(store, wanted),
            }
            t, _ = timed(lambda store=store: store.compact("label_events"))
            entry["compact_s"] = round(t, 3)
            entry["reads_after_compaction"] = reads(store, wanted)
            results[cls.name] = entry
            print(cls.name, json.dumps(entry, indent=1))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1000)
    args = parser.parse_args()
    results = {
        "rows": args.rows,
        "small_appends": args.small,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "2-core shared machine; compare formats within this run",
        "formats": run(args.rows, args.small),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
