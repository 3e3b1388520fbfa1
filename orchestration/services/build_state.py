"""What a build was made from, so that a run with nothing new skips dbt and publishing.

A build's input is the dbt project's files and the export files the manifest has recorded. After
dbt succeeds, the run stores the fingerprint of that input in the working copy (`meta.build_state`);
publishing copies it along. A later run whose input has the same fingerprint has nothing to build,
and a working copy whose fingerprint equals the published one has nothing to publish.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration.services.export_source import ExportFile
from orchestration.services.raw_loader import unrecorded_files
from orchestration.services.warehouse import MANIFEST_TABLE, connect
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


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    digest = hashlib.sha256()
    for path in sorted(dbt_project_files()):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    recorded_files = con.execute(
        f"""
        SELECT md5(coalesce(string_agg(path || '|' || coalesce(fingerprint, '') || '|' || status,
                                       chr(10) ORDER BY path, fingerprint, status), ''))
        FROM (SELECT DISTINCT path, fingerprint, status FROM {MANIFEST_TABLE})
        """
    ).fetchone()[0]
    digest.update(recorded_files.encode())
    return digest.hexdigest()


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


def nothing_new(published: Path, build: Path, export_files: Sequence[ExportFile]) -> bool:
    """True when a run would change nothing: the published warehouse was built from this dbt
    project and from every file in the export, each landed (or recorded as changed) in its
    current version, and the working copy holds nothing that is not published. A file that
    failed to land counts as new: a run retries it."""
    if not published.exists():
        return False
    with connect(published, read_only=True) as con:
        recorded = recorded_fingerprint(con)
        if recorded is None or recorded != input_fingerprint(con):
            return False
        if unrecorded_files(con, export_files, statuses=("landed", "changed")):
            return False
    try:
        return not build.exists() or file_fingerprint(build) == recorded
    except duckdb.IOException:  # a run is writing the working copy: not a time to skip
        return False
