"""Nothing new, nothing done: when a run has nothing to build, and what a build was made from.

A build's input is the dbt project's files and the export files the manifest has recorded. After
dbt succeeds, the run stores the fingerprint of that input in the working copy (`meta.build_state`),
which publishing renames into place. The rule, used by the CLI before it starts a run and by the
dbt asset after landing (`is_published_build`):

    a warehouse file has nothing to build when the fingerprint of its input equals the one it
    recorded, and the published warehouse recorded that same fingerprint.

The second half matters: a run killed after dbt but before publishing leaves a working copy that
is built but not published; the next run must build (and so publish) it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration.runtime.engines.duckdb import MANIFEST_TABLE, DuckDBRaw, connect
from orchestration.runtime.landing import unrecorded_files
from orchestration.runtime.sources.export import ExportFile
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

BUILD_STATE_TABLE = "meta.build_state"


def dbt_project_files() -> list[Path]:
    """Every file a dbt build reads from the repository."""
    return [
        PROJECT_ROOT / "profiles.yml",
        DBT_PROJECT_DIR / "dbt_project.yml",
        *(
            p
            for d in ("models", "macros", "tests")
            for p in (DBT_PROJECT_DIR / d).rglob("*")
            if p.is_file()
        ),
    ]


def fingerprint_of(recorded_files: str) -> str:
    """The fingerprint of a build's input: the dbt project's files, and a digest of the export
    files that the manifest has recorded (path, version, status), which the engine computes."""
    digest = hashlib.sha256()
    for path in sorted(dbt_project_files()):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    digest.update(recorded_files.encode())
    return digest.hexdigest()


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    recorded_files = con.execute(
        f"""
        SELECT md5(coalesce(string_agg(path || '|' || coalesce(fingerprint, '') || '|' || status,
                                       chr(10) ORDER BY path, fingerprint, status), ''))
        FROM (SELECT DISTINCT path, fingerprint, status FROM {MANIFEST_TABLE})
        """
    ).fetchone()[0]
    return fingerprint_of(recorded_files)


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
    """(nothing to build, input fingerprint) for the warehouse open on `con` (see the module)."""
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
