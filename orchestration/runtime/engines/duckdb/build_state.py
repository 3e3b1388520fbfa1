"""The build state of a DuckDB warehouse file: its recorded fingerprint, and the CLI's
"nothing new" (the rule is runtime/build_state.py's)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration.runtime.build_state import (
    BUILD_STATE_TABLE,
    MANIFEST_INPUT_COLUMNS,
    fingerprint_of,
)
from orchestration.runtime.engines.duckdb.files import MANIFEST_TABLE, DuckDBRaw, connect
from orchestration.runtime.landing import unrecorded_files
from orchestration.runtime.sources.export import ExportFile


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    try:
        rows = con.execute(
            f"SELECT DISTINCT {', '.join(MANIFEST_INPUT_COLUMNS)} FROM {MANIFEST_TABLE}"
        ).fetchall()
    except duckdb.CatalogException:  # nothing landed yet
        rows = []
    return fingerprint_of(rows)


def recorded_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute(f"SELECT fingerprint FROM {BUILD_STATE_TABLE}").fetchone()
    except duckdb.CatalogException:  # a warehouse built before build states were recorded
        return None
    return row[0] if row else None


def record_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILD_STATE_TABLE} "
        "(fingerprint VARCHAR NOT NULL, built_at TIMESTAMP WITH TIME ZONE NOT NULL)"
    )
    con.execute(f"DELETE FROM {BUILD_STATE_TABLE}")
    con.execute(f"INSERT INTO {BUILD_STATE_TABLE} VALUES (?, now())", [fingerprint])


def file_fingerprint(path: Path) -> str | None:
    """The recorded fingerprint of a warehouse file, or None if it has none (or does not exist)."""
    if not path.exists():
        return None
    with connect(path, read_only=True) as con:
        return recorded_fingerprint(con)


def is_published_build(con: duckdb.DuckDBPyConnection, published: Path) -> tuple[bool, str]:
    """(nothing to build, input fingerprint) for the warehouse open on `con`."""
    fingerprint = input_fingerprint(con)
    built = recorded_fingerprint(con)
    return fingerprint == built == file_fingerprint(published), fingerprint


def nothing_new(published: Path, build: Path, export_files: Sequence[ExportFile]) -> bool:
    """True when a run would change nothing: every file of the export is settled in the published
    warehouse's manifest (a failed file counts as new: a run retries it), the published
    warehouse is the build of its own input, and the working copy holds nothing newer."""
    if not published.exists():
        return False
    with connect(published, read_only=True) as con:
        if unrecorded_files(DuckDBRaw(con), export_files):
            return False
        unchanged, fingerprint = is_published_build(con, published)
    if not unchanged:
        return False
    try:
        return not build.exists() or file_fingerprint(build) == fingerprint
    except duckdb.IOException:  # a run is writing the working copy: not a time to skip
        return False
