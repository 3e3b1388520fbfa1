"""What the published warehouse knows of past pulls, and what a run records of its own.

- `meta.api_pulls`: one row per pull of a model in an environment: mode, watermark, pages,
  records listed, changed and gone, the file it wrote. The next pull's watermark is the largest
  one here, in the *published* warehouse: a run killed before it published leaves none, and the
  next run asks again from the last published point.
- `meta.api_records`: the state that change detection compares with: per record (model,
  environment, key) its content hash, when a pull first listed it, first saw its current
  content, and last listed it.
A run writes both whole into its working copy (published rows plus its own), so they are
published with the rows that they describe, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from orchestration.runtime.engines.duckdb import files as duck

if TYPE_CHECKING:
    from orchestration.runtime.sources.api.result import PullResult

PULLS_TABLE = "meta.api_pulls"
RECORDS_TABLE = "meta.api_records"

PULL_COLUMNS = {
    "run_id": pa.string(),
    "pulled_at": pa.timestamp("us", tz="UTC"),
    "environment_id": pa.string(),
    "model": pa.string(),
    "mode": pa.string(),  # incremental | full | nested | per customer
    "watermark_from": pa.timestamp("us", tz="UTC"),
    "watermark": pa.timestamp("us", tz="UTC"),
    "pages": pa.int64(),
    "records_listed": pa.int64(),
    "records_changed": pa.int64(),
    "records_gone": pa.int64(),
    "file": pa.string(),
    "status": pa.string(),
}


@dataclass(frozen=True)
class RecordState:
    content_hash: str
    first_seen_at: datetime
    state_seen_at: datetime
    last_listed_at: datetime


StateKey = tuple[str, str, str]  # model, environment, record key


@dataclass
class Published:
    """The published warehouse's view of the API source (empty when none is published)."""

    exists: bool = False
    landed_paths: set[str] = field(default_factory=set)
    pulls: list[dict] = field(default_factory=list)
    state: dict[StateKey, RecordState] = field(default_factory=dict)

    def watermark(self, model: str, environment_id: str) -> datetime | None:
        marks = [
            p["watermark"]
            for p in self.pulls
            if p["model"] == model and p["environment_id"] == environment_id and p["watermark"]
        ]
        return max(marks) if marks else None


def read_published(warehouse_path: Path) -> Published:
    if not warehouse_path.exists():
        return Published()
    with duck.connect(warehouse_path, read_only=True) as con:
        published = Published(exists=True)
        published.landed_paths = {
            path
            for (path,) in _rows(
                con, f"SELECT path FROM {duck.MANIFEST_TABLE} WHERE status = 'landed'"
            )
        }
        names = list(PULL_COLUMNS)
        published.pulls = [
            dict(zip(names, row, strict=True))
            for row in _rows(con, f"SELECT {', '.join(names)} FROM {PULLS_TABLE}")
        ]
        published.state = {
            (model, environment, key): RecordState(content_hash, first, state_seen, listed)
            for model, environment, key, content_hash, first, state_seen, listed in _rows(
                con,
                "SELECT model, environment_id, record_key, content_hash, first_seen_at, "
                f"state_seen_at, last_listed_at FROM {RECORDS_TABLE}",
            )
        }
    return published


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:  # a warehouse from before the first pull
        return []


def record(
    con: duckdb.DuckDBPyConnection,
    pulls: list[dict],
    state: dict[StateKey, RecordState],
) -> None:
    """Write the pulls (the published ones and this run's) and the state into the working copy,
    in one transaction."""
    pulls_table = pa.Table.from_pylist(pulls, schema=pa.schema(PULL_COLUMNS))
    keys = list(state)
    states = [state[k] for k in keys]
    ts = pa.timestamp("us", tz="UTC")
    records_table = pa.table(
        {
            "model": pa.array([k[0] for k in keys], pa.string()),
            "environment_id": pa.array([k[1] for k in keys], pa.string()),
            "record_key": pa.array([k[2] for k in keys], pa.string()),
            "content_hash": pa.array([s.content_hash for s in states], pa.string()),
            "first_seen_at": pa.array([s.first_seen_at for s in states], ts),
            "state_seen_at": pa.array([s.state_seen_at for s in states], ts),
            "last_listed_at": pa.array([s.last_listed_at for s in states], ts),
        }
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        con.register("stigg_api_pulls", pulls_table)
        con.register("stigg_api_records", records_table)
        con.execute(f"CREATE OR REPLACE TABLE {PULLS_TABLE} AS SELECT * FROM stigg_api_pulls")
        con.execute(
            f"CREATE OR REPLACE TABLE {RECORDS_TABLE} AS SELECT * FROM stigg_api_records "
            "ORDER BY model, environment_id, record_key"
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("stigg_api_pulls")
        con.unregister("stigg_api_records")


def record_in(build_path: Path, pulled: PullResult) -> None:
    """`record` into the working copy at `build_path`."""
    with duck.connect(build_path) as con:
        record(con, pulled.manifest_rows(), pulled.state)
