"""Lands export files into `raw.<model>` with DuckDB's own readers, and keeps the manifest.

- All new files of a model land in one statement per format (read_parquet / read_csv /
  read_json with union_by_name), inside one transaction with their manifest rows: a file
  lands whole or not at all. If that batch fails, each file is retried alone, so one bad
  file is named, recorded as failed, and does not hold the others back.
- Raw tables keep every column the files carry, named in lower case. A column that a later
  file adds is added; a column whose type disagrees between files is widened to VARCHAR.
  Staging casts; raw never loses a value.
- Every row carries its lineage: source file, dt, transfer time, load id and load time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb

from orchestration.services.export_source import ExportFile
from orchestration.services.warehouse import MANIFEST_TABLE, quote_identifier

RAW_SCHEMA = "raw"
SOURCE_FILE_COLUMN = "_stigg_source_file"
LINEAGE_COLUMNS: dict[str, str] = {
    SOURCE_FILE_COLUMN: "VARCHAR",
    "_stigg_dt": "DATE",
    "_stigg_transfer_at": "TIMESTAMP WITH TIME ZONE",
    "_stigg_load_id": "VARCHAR",
    "_stigg_loaded_at": "TIMESTAMP WITH TIME ZONE",
}
_READER_FILE_COLUMN = "_stigg_reader_file"
_NESTED_TYPE_PREFIXES = ("STRUCT", "MAP", "UNION")


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str


@dataclass
class ModelLanding:
    """What one landing of one model did."""

    model: str
    files_landed: list[str] = field(default_factory=list)
    rows_landed: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    already_landed: int = 0


def ensure_schema(con: duckdb.DuckDBPyConnection, models: Iterable[str]) -> None:
    """The manifest and a raw table for every known model, present even before any file lands."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} (
            path VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            dt DATE,
            transfer_at TIMESTAMP WITH TIME ZONE,
            format VARCHAR,
            size_bytes BIGINT,
            fingerprint VARCHAR,
            status VARCHAR NOT NULL,  -- landed | failed | changed
            rows BIGINT,
            error VARCHAR,
            load_id VARCHAR,
            recorded_at TIMESTAMP WITH TIME ZONE NOT NULL
        )
        """
    )
    lineage = ", ".join(f"{name} {typ}" for name, typ in LINEAGE_COLUMNS.items())
    for model in models:
        con.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(model)} ({lineage})")


def raw_table(model: str) -> str:
    return f"{RAW_SCHEMA}.{quote_identifier(model)}"


def land_model(
    con: duckdb.DuckDBPyConnection, model: str, files: Sequence[ExportFile], load_id: str
) -> ModelLanding:
    """Land every file of `model` that the manifest has not recorded as landed."""
    result = ModelLanding(model)
    landed = dict(
        con.execute(
            f"SELECT path, fingerprint FROM {MANIFEST_TABLE} WHERE model = ? AND status = 'landed'",
            [model],
        ).fetchall()
    )
    new_files: list[ExportFile] = []
    changed_files: list[ExportFile] = []
    for f in files:
        if f.path not in landed:
            new_files.append(f)
        elif landed[f.path] != manifest_fingerprint(f):
            changed_files.append(f)
        else:
            result.already_landed += 1
    result.changed = [f.path for f in changed_files]
    _record_changed(con, model, changed_files, load_id)

    by_format: dict[str, list[ExportFile]] = {}
    for f in new_files:
        by_format.setdefault(f.format, []).append(f)
    for batch in by_format.values():
        _land_or_split(con, model, batch, load_id, result)
    return result


def unrecorded_files(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[ExportFile],
    statuses: Sequence[str] = ("landed", "failed", "changed"),
) -> list[ExportFile]:
    """The files whose current version the manifest has not recorded with one of `statuses`."""
    try:
        recorded = set(
            con.execute(
                f"SELECT path, fingerprint FROM {MANIFEST_TABLE} WHERE list_contains(?, status)",
                [list(statuses)],
            ).fetchall()
        )
    except duckdb.CatalogException:  # a warehouse from before the first landing
        return list(files)
    return [f for f in files if (f.path, manifest_fingerprint(f)) not in recorded]


def _land_or_split(
    con: duckdb.DuckDBPyConnection,
    model: str,
    batch: Sequence[ExportFile],
    load_id: str,
    result: ModelLanding,
) -> None:
    """Land the batch whole; if it fails, land each file alone, so a bad file is found and named."""
    try:
        rows = _land_batch(con, model, batch, load_id)
    except duckdb.Error as exc:
        if len(batch) > 1:
            for f in batch:
                _land_or_split(con, model, [f], load_id, result)
            return
        reason = _short_error(exc)
        if batch[0].format == "json":
            reason += _first_malformed_json_line(con, batch[0])
        _record(con, model, batch, load_id, status="failed", error=reason)
        result.failed.append(FailedFile(batch[0].path, reason))
        return
    result.files_landed.extend(f.path for f in batch)
    result.rows_landed += sum(rows.values())


def _first_malformed_json_line(con: duckdb.DuckDBPyConnection, f: ExportFile) -> str:
    """' First malformed line: N.' for a newline-delimited JSON file, read as lines of text."""
    try:
        found = con.execute(
            """
            SELECT line_number FROM (
                SELECT row_number() OVER () AS line_number, line
                FROM read_csv(?, columns = {'line': 'VARCHAR'}, header = false, delim = chr(1),
                              quote = '', escape = '', auto_detect = false)
            ) WHERE line IS NOT NULL AND trim(line) <> '' AND NOT json_valid(line)
            ORDER BY line_number LIMIT 1
            """,
            [f.uri],
        ).fetchone()
    except duckdb.Error:
        return ""  # unreadable as text too (a corrupt gzip): DuckDB's own message says enough
    return f" First malformed line: {found[0]}." if found else ""


def _land_batch(
    con: duckdb.DuckDBPyConnection, model: str, batch: Sequence[ExportFile], load_id: str
) -> dict[str, int]:
    """One transaction: evolve the raw table, insert the rows, record the files. Rows per file."""
    reader = _reader_sql(batch[0].format)
    uris = [f.uri for f in batch]
    con.execute("BEGIN TRANSACTION")
    try:
        incoming = con.execute(f"DESCRIBE SELECT * FROM {reader}", {"files": uris}).fetchall()
        columns = [(name, typ) for name, typ, *_ in incoming if name != _READER_FILE_COLUMN]
        _evolve_raw_table(con, model, columns)

        con.execute(
            "CREATE OR REPLACE TEMP TABLE _stigg_batch_files (uri VARCHAR, path VARCHAR, dt DATE, transfer_at TIMESTAMPTZ)"
        )
        con.executemany(
            "INSERT INTO _stigg_batch_files VALUES (?, ?, ?, ?)",
            [(f.uri, f.path, f.dt, f.transfer_at) for f in batch],
        )
        select_list = ", ".join(_select_expression(name, typ) for name, typ in columns)
        con.execute(
            f"""
            INSERT INTO {raw_table(model)} BY NAME
            SELECT {select_list + "," if select_list else ""}
                   files.path AS {SOURCE_FILE_COLUMN},
                   files.dt AS _stigg_dt,
                   files.transfer_at AS _stigg_transfer_at,
                   $load_id AS _stigg_load_id,
                   now() AS _stigg_loaded_at
            FROM {reader} AS source
            JOIN _stigg_batch_files AS files ON source.{_READER_FILE_COLUMN} = files.uri
            """,
            {"files": uris, "load_id": load_id},
        )
        rows = dict(
            con.execute(
                f"""
                SELECT {SOURCE_FILE_COLUMN}, count(*) FROM {raw_table(model)}
                WHERE _stigg_load_id = ? AND {SOURCE_FILE_COLUMN} IN (SELECT path FROM _stigg_batch_files)
                GROUP BY ALL
                """,
                [load_id],
            ).fetchall()
        )
        rows = {f.path: rows.get(f.path, 0) for f in batch}
        _record(con, model, batch, load_id, status="landed", rows=rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows


def _reader_sql(fmt: str) -> str:
    """A DuckDB reader over the file list bound as parameter $files."""
    common = f"union_by_name = true, hive_partitioning = false, filename = '{_READER_FILE_COLUMN}'"
    if fmt == "parquet":
        return f"read_parquet($files, {common})"
    if fmt == "csv":
        # all_varchar: CSV carries no types; guessing would turn '0042' into 42.
        return f"read_csv($files, {common}, header = true, all_varchar = true)"
    return f"read_json($files, {common}, format = 'newline_delimited', sample_size = -1)"


def _is_nested(typ: str) -> bool:
    """STRUCT, MAP, UNION and LIST types: raw keeps them as JSON text."""
    return typ.upper().startswith(_NESTED_TYPE_PREFIXES) or typ.endswith("]")


def _select_expression(name: str, typ: str) -> str:
    source = f"source.{quote_identifier(name)}"
    alias = quote_identifier(name.lower())
    if _is_nested(typ):
        return f"CAST(to_json({source}) AS VARCHAR) AS {alias}"
    return f"{source} AS {alias}"


def _evolve_raw_table(
    con: duckdb.DuckDBPyConnection, model: str, incoming: Sequence[tuple[str, str]]
) -> None:
    existing = {
        name.lower(): typ
        for name, typ, *_ in con.execute(f"DESCRIBE {raw_table(model)}").fetchall()
    }
    for name, typ in incoming:
        column = name.lower()
        if column in LINEAGE_COLUMNS:
            raise ValueError(f"column {name!r} collides with a lineage column of raw.{model}")
        wanted = "VARCHAR" if _is_nested(typ) else typ
        if column not in existing:
            con.execute(
                f"ALTER TABLE {raw_table(model)} ADD COLUMN {quote_identifier(column)} {wanted}"
            )
            existing[column] = wanted
        elif existing[column] != wanted and existing[column] != "VARCHAR":
            con.execute(
                f"ALTER TABLE {raw_table(model)} ALTER COLUMN {quote_identifier(column)} TYPE VARCHAR"
            )
            existing[column] = "VARCHAR"


def manifest_fingerprint(f: ExportFile) -> str:
    """What the manifest records of a file's version: a replaced file gets a new one."""
    return f"{f.size}:{f.fingerprint}"


def _record(
    con: duckdb.DuckDBPyConnection,
    model: str,
    files: Sequence[ExportFile],
    load_id: str,
    *,
    status: str,
    rows: dict[str, int] | None = None,
    error: str | None = None,
) -> None:
    con.executemany(
        f"INSERT INTO {MANIFEST_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            (
                f.path,
                model,
                f.dt,
                f.transfer_at,
                f.format,
                f.size,
                manifest_fingerprint(f),
                status,
                (rows or {}).get(f.path),
                error,
                load_id,
            )
            for f in files
        ],
    )


def _record_changed(
    con: duckdb.DuckDBPyConnection, model: str, files: Sequence[ExportFile], load_id: str
) -> None:
    """Record each replaced file once per new fingerprint; its new content is not landed."""
    for f in files:
        seen = con.execute(
            f"SELECT 1 FROM {MANIFEST_TABLE} WHERE path = ? AND status = 'changed' AND fingerprint = ?",
            [f.path, manifest_fingerprint(f)],
        ).fetchone()
        if not seen:
            _record(
                con,
                model,
                [f],
                load_id,
                status="changed",
                error="file changed after it was landed; its new content was not loaded",
            )


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__
