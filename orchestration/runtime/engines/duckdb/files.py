"""The DuckDB engine: connections, landing SQL, the working copy that runs build into, publishing.

Everything here is DuckDB's; what landing decides (which files, when a file failed) is in
runtime/landing.py and calls `DuckDBRaw`.

A run writes only the working copy (`Settings.build_path`), made from the published file when
the run starts. Publishing renames it, closed and checkpointed, over the published one, so an
analyst's open read-only connection keeps the old file and never blocks or sees a half-built run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.runtime import disk_space
from orchestration.runtime.landing import manifest_rows
from orchestration.runtime.sources import text_files
from orchestration.runtime.sources.export import ExportFile
from orchestration.runtime.sources.text_files import TextLayout
from orchestration.settings import Settings
from orchestration.spec.raw_layer import (
    ENVIRONMENT_COLUMN,
    FILE_LINEAGE,
    LINEAGE_COLUMN_NAMES,
    LINEAGE_COLUMNS,
    LOAD_ID_COLUMN,
    LOADED_AT_COLUMN,
    MANIFEST_COLUMNS,
    MANIFEST_TABLE,
    RAW_SCHEMA,
    SOURCE_FILE_COLUMN,
    RawColumn,
    column_definitions,
)
from orchestration.spec.tables import file_environment

# The raw layer's columns (spec/raw_layer.py) in DuckDB's types.
TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "bigint": "BIGINT",
}
_READER_FILE_COLUMN = "_stigg_reader_file"
_NESTED_TYPE_PREFIXES = ("STRUCT", "MAP", "UNION")

# What a failed read or insert raises: landing records the file as failed with its message.
LandingError = duckdb.Error


def connect(
    path: Path | str, *, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the session settings every writer and reader here relies on."""
    config = {"autoinstall_known_extensions": "false"}  # no network: never download extensions
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    con.execute("SET TimeZone = 'UTC'")  # after connect: it needs the bundled icu extension loaded
    return con


def largest_raw_table_rows(con: duckdb.DuckDBPyConnection) -> int:
    """The row count of the largest raw table, from DuckDB's catalog (no scan); 0 if none."""
    (rows,) = con.execute(
        "SELECT coalesce(max(estimated_size), 0) FROM duckdb_tables() WHERE schema_name = 'raw'"
    ).fetchone()
    return rows


def quote_identifier(name: str) -> str:
    """A DuckDB identifier that is always quoted, whatever the name holds."""
    return '"' + name.replace('"', '""') + '"'


def raw_table(model: str) -> str:
    return f"{RAW_SCHEMA}.{quote_identifier(model)}"


class DuckDBRaw:
    """The raw layer and the manifest of one DuckDB warehouse file, for landing.

    - All new files of a batch land in one statement (read_parquet with union_by_name; read_csv
      and read_json with the layout and options of sources/text_files.py, nothing sniffed),
      inside one transaction with their manifest rows: a file lands whole or not at all.
    - Raw tables keep every column the files carry, named in lower case. A column that a later
      file adds is added; a column whose type disagrees between files is widened to VARCHAR.
      Staging casts; raw never loses a value.
    - Every row carries its lineage: source file, dt, transfer time, load id and load time.
    """

    landing_errors = (duckdb.Error,)

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
        self.con = con
        self.path = path  # the file it writes (landing), so a full disk is told from a bad file

    def disk_is_full(self) -> bool:
        return self.path is not None and disk_space.is_nearly_full(self.path.parent)

    def check_visible(self, f: ExportFile) -> None:
        """Nothing to check: DuckDB reads in this process, where the export was listed."""

    def ensure_schema(self, models: Iterable[str]) -> None:
        """The manifest and a raw table for every known model, present before any file lands."""
        con = self.con
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        manifest = column_definitions(MANIFEST_COLUMNS, TYPES, not_null=True)
        con.execute(f"CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} ({manifest})")
        lineage = column_definitions(LINEAGE_COLUMNS, TYPES, not_null=False)
        for model in models:
            con.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(model)} ({lineage})")
            self._add_lineage_columns(model)

    def _add_lineage_columns(self, model: str) -> None:
        """A raw table from before a lineage column existed gets it, filled from its rows' files
        (a warehouse built by an earlier version)."""
        con = self.con
        existing = {name for name, *_ in con.execute(f"DESCRIBE {raw_table(model)}").fetchall()}
        missing = [column for column in LINEAGE_COLUMNS if column.name not in existing]
        if not missing:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            self._fill_lineage_columns(model, missing)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _fill_lineage_columns(self, model: str, missing: Sequence[RawColumn]) -> None:
        con = self.con
        for column in missing:
            con.execute(
                f"ALTER TABLE {raw_table(model)} ADD COLUMN {column.name} {TYPES[column.type]}"
            )
            if column.name == ENVIRONMENT_COLUMN:
                files = con.execute(
                    f"SELECT DISTINCT {SOURCE_FILE_COLUMN} FROM {raw_table(model)}"
                ).fetchall()
                environments = [
                    (environment, path)
                    for (path,) in files
                    if (environment := file_environment(path))
                ]
                if environments:
                    con.executemany(
                        f"UPDATE {raw_table(model)} SET {ENVIRONMENT_COLUMN} = ? "
                        f"WHERE {SOURCE_FILE_COLUMN} = ?",
                        environments,
                    )

    def recorded(self, statuses: Sequence[str], model: str | None = None) -> set[tuple[str, str]]:
        """(path, fingerprint) of the manifest's rows with one of `statuses` (of `model`)."""
        try:
            rows = self.con.execute(
                f"SELECT path, fingerprint FROM {MANIFEST_TABLE} "
                "WHERE list_contains(?, status) AND (? IS NULL OR model = ?)",
                [list(statuses), model, model],
            ).fetchall()
        except duckdb.CatalogException:  # a warehouse from before the first landing
            return set()
        return set(rows)

    def record(self, rows: Sequence[tuple]) -> None:
        placeholders = ", ".join("?" for _ in MANIFEST_COLUMNS[:-1])
        self.con.executemany(f"INSERT INTO {MANIFEST_TABLE} VALUES ({placeholders}, now())", rows)

    def land_batch(
        self,
        model: str,
        batch: Sequence[ExportFile],
        load_id: str,
        layout: TextLayout | None = None,
    ) -> dict[str, int]:
        """One transaction: evolve the raw table, insert the rows, record the files. Rows per file."""
        con = self.con
        reader = _reader_sql(batch[0].format, layout)
        uris = [f.uri for f in batch]
        con.execute("BEGIN TRANSACTION")
        try:
            incoming = con.execute(f"DESCRIBE SELECT * FROM {reader}", {"files": uris}).fetchall()
            columns = [(name, typ) for name, typ, *_ in incoming if name != _READER_FILE_COLUMN]
            self._evolve_raw_table(model, columns)

            file_columns = ", ".join(f"{c.file_attribute} {TYPES[c.type]}" for c in FILE_LINEAGE)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _stigg_batch_files (uri VARCHAR, {file_columns})"
            )
            con.executemany(
                f"INSERT INTO _stigg_batch_files VALUES (?{', ?' * len(FILE_LINEAGE)})",
                [(f.uri, *(getattr(f, c.file_attribute) for c in FILE_LINEAGE)) for f in batch],
            )
            select_list = ", ".join(_select_expression(name, typ) for name, typ in columns)
            (inserted,) = con.execute(
                f"""
                INSERT INTO {raw_table(model)} BY NAME
                SELECT {select_list + "," if select_list else ""} {_lineage_values()}
                FROM {reader} AS source
                JOIN _stigg_batch_files AS files ON source.{_READER_FILE_COLUMN} = files.uri
                """,
                {"files": uris, "load_id": load_id},
            ).fetchone()
            rows = self._rows_per_file(model, batch, load_id)
            if sum(rows.values()) != inserted:
                raise LandingError(
                    f"{inserted} rows inserted, but the files hold {sum(rows.values())}"
                )
            self.record(manifest_rows(model, batch, load_id, status="landed", rows=rows))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return rows

    def _rows_per_file(
        self, model: str, batch: Sequence[ExportFile], load_id: str
    ) -> dict[str, int]:
        """Each file's row count: from the footers of Parquet files (no second scan), else by
        counting the rows this load inserted."""
        if batch[0].format == "parquet":
            by_uri = dict(
                self.con.execute(
                    "SELECT file_name, num_rows FROM parquet_file_metadata($files)",
                    {"files": [f.uri for f in batch]},
                ).fetchall()
            )
            return {f.path: by_uri.get(f.uri, 0) for f in batch}
        counted = dict(
            self.con.execute(
                f"""
                SELECT {SOURCE_FILE_COLUMN}, count(*) FROM {raw_table(model)}
                WHERE _stigg_load_id = ? AND {SOURCE_FILE_COLUMN} IN (SELECT path FROM _stigg_batch_files)
                GROUP BY ALL
                """,
                [load_id],
            ).fetchall()
        )
        return {f.path: counted.get(f.path, 0) for f in batch}

    def failure_reason(self, error: BaseException) -> str:
        """What to record for a file that could not land: DuckDB's message, first line."""
        text = str(error).strip().splitlines()
        return text[0][:500] if text else type(error).__name__

    def table_summary(self, model: str) -> tuple[int, datetime | None]:
        """The raw table's row count and newest transfer."""
        return self.con.execute(
            f"SELECT count(*), max(_stigg_transfer_at) FROM {raw_table(model)}"
        ).fetchone()

    def _evolve_raw_table(self, model: str, incoming: Sequence[tuple[str, str]]) -> None:
        con = self.con
        existing = {
            name.lower(): typ
            for name, typ, *_ in con.execute(f"DESCRIBE {raw_table(model)}").fetchall()
        }
        for name, typ in incoming:
            column = name.lower()
            if column in LINEAGE_COLUMN_NAMES:
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


def _lineage_values() -> str:
    """The lineage columns' values (spec/raw_layer.py): the batch's files, the load, the time."""
    run_values = {LOAD_ID_COLUMN: "$load_id", LOADED_AT_COLUMN: "now()"}
    return ", ".join(
        f"{'files.' + c.file_attribute if c.file_attribute else run_values[c.name]} AS {c.name}"
        for c in LINEAGE_COLUMNS
    )


def _reader_sql(fmt: str, layout: TextLayout | None) -> str:
    """A DuckDB reader over the file list bound as parameter $files."""
    common = f"hive_partitioning = false, filename = '{_READER_FILE_COLUMN}'"
    if fmt == "parquet":
        return f"read_parquet($files, {common}, union_by_name = true)"
    assert layout is not None, "a text file lands with its layout (landing.py)"
    if fmt == "csv":
        options = text_files.duckdb_csv_options(layout)
        return f"read_csv($files, {common}, {_named_parameters(options)})"
    options = text_files.duckdb_json_options(layout)
    return f"read_json($files, {common}, {_named_parameters(options)})"


def _named_parameters(options: dict[str, object]) -> str:
    return ", ".join(f"{name} = {_sql_literal(value)}" for name, value in options.items())


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_sql_literal(k)}: {_sql_literal(v)}" for k, v in value.items()) + "}"
        )
    return "'" + str(value).replace("'", "''") + "'"


def _is_nested(typ: str) -> bool:
    """STRUCT, MAP, UNION and LIST types: raw keeps them as JSON text."""
    return typ.upper().startswith(_NESTED_TYPE_PREFIXES) or typ.endswith("]")


def _select_expression(name: str, typ: str) -> str:
    source = f"source.{quote_identifier(name)}"
    alias = quote_identifier(name.lower())
    if _is_nested(typ):
        return f"CAST(to_json({source}) AS VARCHAR) AS {alias}"
    return f"{source} AS {alias}"


# --- the working copy and publishing ----------------------------------------------------------


def prepare_build_copy(
    settings: Settings, *, from_scratch: bool = False, from_published: bool = False
) -> Path:
    """The working copy for a run; started from the published warehouse if there is none.

    `from_scratch` (a full refresh) starts from an empty file: every export file lands again.
    `from_published` drops a working copy that a run left unpublished and starts again from the
    published warehouse.
    """
    build = settings.build_path
    build.parent.mkdir(parents=True, exist_ok=True)
    if from_scratch or from_published:
        for stale in (build, settings.build_wal_path):
            stale.unlink(missing_ok=True)
    _remove_half_written_copies(settings)
    if from_scratch:
        return build
    if not build.exists() and settings.warehouse_path.exists():
        tmp = build.with_name(build.name + f".tmp-{os.getpid()}")
        try:
            shutil.copyfile(settings.warehouse_path, tmp)
            os.replace(tmp, build)
        finally:
            tmp.unlink(missing_ok=True)
    return build


def _remove_half_written_copies(settings: Settings) -> None:
    """The temporary copies that a killed run left: of the working copy (`<build>.tmp-<pid>`), and
    of the publish copy that versions before publishing by rename wrote. The caller holds the
    writer lock, so none of them is being written."""
    build, target = settings.build_path, settings.warehouse_path
    for leftover in [
        *build.parent.glob(f"{build.name}.tmp-*"),
        *target.parent.glob(f".{target.name}.publish-*"),
    ]:
        leftover.unlink()


def discard_working_copy(settings: Settings) -> None:
    """Remove the working copy (and its WAL and spill folder): the next run starts again from
    the published warehouse. For a run that the disk stopped midway."""
    build = settings.build_path
    for path in (build, settings.build_wal_path):
        path.unlink(missing_ok=True)
    shutil.rmtree(build.with_name(build.name + ".tmp"), ignore_errors=True)


def file_lock_holder(path: Path) -> str | None:
    """Why another process still has the DuckDB file open for writing, or None when none has
    (a dbt left running by a killed run keeps its DuckDB lock until it exits)."""
    if not path.exists():
        return None
    try:
        connect(path).close()
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        return str(exc)
    return None


@dataclass(frozen=True)
class PublishResult:
    path: Path
    size_bytes: int
    seconds: float


def publish(settings: Settings) -> PublishResult:
    """Atomically replace the published warehouse with the working copy, by renaming it: the
    working copy, checkpointed and closed, becomes the published file, and the next run makes a
    new one from it (prepare_build_copy). No copy is written here, so the folder never holds
    more than the published file, the working copy and what readers still have open."""
    started = time.monotonic()
    build = settings.build_path
    with connect(build) as con:
        con.execute("CHECKPOINT")
    if settings.build_wal_path.exists():  # renamed without its WAL, the file would lose writes
        raise RuntimeError(
            f"{settings.build_wal_path} is still there after a checkpoint: a connection to "
            f"{build} is still open"
        )
    target = settings.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(build, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(build, target)
    _fsync_directory(target.parent)
    return PublishResult(target, target.stat().st_size, time.monotonic() - started)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
