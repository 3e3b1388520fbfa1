from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.services.sample_export import ExportConfig, generate_export
from orchestration.settings import PROJECT_ROOT

SHARED_DIR = PROJECT_ROOT.parent / "shared"
SAMPLE_EXPORT = PROJECT_ROOT / "seeds" / "sample_export"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    """A small generated export: 40 customers, 2 environments, 3 transfers."""
    out = tmp_path / "export"
    generate_export(out, ExportConfig(customers=40, seed=11, transfers=3, events_per_customer=2))
    return out


@pytest.fixture
def pipeline_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a `stigg-warehouse` subprocess with its own warehouse and Dagster home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    env["STIGG_WAREHOUSE_PATH"] = str(tmp_path / "wh" / "stigg_warehouse.duckdb")
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: int = 900
) -> subprocess.CompletedProcess:
    """The real console script's code, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(path: str | Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def s3_server() -> Iterator[str]:
    """A real S3-compatible server (moto) on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# Columns that say when or by which run a row was loaded, not what it holds.
LOAD_COLUMNS = {"_stigg_load_id", "_stigg_loaded_at", "load_id", "recorded_at"}
# Bookkeeping of how the warehouse was built (which loads each incremental table took in, the
# last build's input), not of what it holds: it differs between histories by design.
BOOKKEEPING_TABLES = {"meta.dbt_processed_loads", "meta.build_state"}


def table_checksums(path: str | Path) -> dict[str, tuple[int, str]]:
    """Every table's row count and an order-independent digest of its rows, load columns and
    bookkeeping tables aside."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE' ORDER BY ALL"""
        ).fetchall()
        checksums = {}
        for schema, table in tables:
            if f"{schema}.{table}" in BOOKKEEPING_TABLES:
                continue
            columns = [
                r[0]
                for r in con.execute(
                    """SELECT column_name FROM information_schema.columns
                       WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
                    [schema, table],
                ).fetchall()
                if r[0] not in LOAD_COLUMNS
            ]
            row = "row(" + ", ".join('"' + c.replace('"', '""') + '"' for c in columns) + ")"
            relation = f'"{schema}"."{table}"'
            checksums[f"{schema}.{table}"] = con.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(cast({row} AS varchar)), '' "
                f"ORDER BY md5(cast({row} AS varchar)))), '') FROM {relation}"
            ).fetchone()
    return checksums
