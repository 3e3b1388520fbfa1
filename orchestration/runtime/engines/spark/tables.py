"""The Spark engine: a Spark Connect session, landing with Spark's readers, publishing by views.

What landing decides (which files, when a file failed) is in runtime/landing.py, which calls
`SparkRaw` through the same small interface as `DuckDBRaw`. No row passes through Python: the
client lists the export, the server reads the files.

Plain Parquet tables (no Delta or Iceberg here) have no transactions, DELETE or MERGE, so:
- A raw table is partitioned by `_stigg_source_file`, and a file's rows land by a dynamic
  partition overwrite of that file's partition. Its manifest row is written after, as the commit:
  a run killed between the two leaves rows with no manifest row, and the next run lands the file
  again, replacing them. Landing a file is idempotent.
- Raw keeps every exported column as text (string), nested values as JSON text: a plain Parquet
  table cannot change a column's type in place, and staging casts anyway. Raw never loses a value.
- dbt builds into one of two build slots (`<layer>__a`, `<layer>__b`); publishing points the
  views of `staging`, `stigg`, `rejects`, `analytics` and `meta` at the slot just built. Readers
  see the last published slot until the switch; a failed run changes nothing they see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from orchestration.runtime.build_state import BUILD_STATE_TABLE, MANIFEST_INPUT_COLUMNS
from orchestration.runtime.engines.spark.session_settings import session_settings
from orchestration.runtime.landing import manifest_rows
from orchestration.runtime.sources import text_files
from orchestration.runtime.sources.export import ExportFile
from orchestration.runtime.sources.text_files import TextLayout
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
    column_definitions,
)
from orchestration.spec.tables import file_environment

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PUBLICATIONS_TABLE = "meta.published_builds"
BUILDS_TABLE = BUILD_STATE_TABLE
# The raw layer's columns (spec/raw_layer.py) in Spark's types.
TYPES = {"string": "string", "date": "date", "timestamp": "timestamp", "bigint": "bigint"}
LINEAGE_TYPES = {c.name: TYPES[c.type] for c in LINEAGE_COLUMNS}
# The layers dbt builds; each has a database of views that analysts query, and two build slots.
PUBLISHED_LAYERS = ("staging", "rejects", "stigg", "analytics", "meta")
BUILD_SLOTS = ("a", "b")
# An export file's path relative to the export root, from the absolute URI Spark reads it at.
_RELATIVE_PATH_PATTERN = r"([^/]+/dt=[^/]+/[^/]+)$"


def _landing_errors() -> tuple[type[BaseException], ...]:
    from pyspark.errors import PySparkException

    return (PySparkException,)


class ExportNotVisibleError(RuntimeError):
    """The Spark server cannot read the export at the path the client listed."""


def connect(remote: str) -> SparkSession:
    """A Spark Connect session with the settings every writer and reader here relies on."""
    from pyspark.sql import SparkSession

    # create(), not getOrCreate(): that returns a process's first session whatever the address.
    spark = SparkSession.builder.remote(remote).create()
    for key, value in session_settings().items():
        spark.conf.set(key, value)
    return spark


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def raw_table(model: str) -> str:
    return f"{RAW_SCHEMA}.{quote_identifier(model)}"


def slot_schema(layer: str, slot: str) -> str:
    """The database that build slot `slot` of `layer` lives in (dbt's generate_schema_name)."""
    return f"{layer}__{slot}"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkRaw:
    """The raw layer and the manifest of a Spark warehouse, for landing (see the module)."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    @property
    def landing_errors(self) -> tuple[type[BaseException], ...]:
        return _landing_errors()

    def ensure_schema(self, models: Iterable[str]) -> None:
        spark = self.spark
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {RAW_SCHEMA}")
        spark.sql("CREATE DATABASE IF NOT EXISTS meta")
        manifest = column_definitions(MANIFEST_COLUMNS, TYPES, not_null=False)
        spark.sql(f"CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} ({manifest}) USING parquet")
        lineage = column_definitions(LINEAGE_COLUMNS, TYPES, not_null=False)
        existing = {row.tableName for row in spark.sql(f"SHOW TABLES IN {RAW_SCHEMA}").collect()}
        for model in models:
            if model.lower() not in existing:
                spark.sql(
                    f"CREATE TABLE IF NOT EXISTS {raw_table(model)} ({lineage}) "
                    f"USING parquet PARTITIONED BY ({SOURCE_FILE_COLUMN})"
                )
            else:
                self._add_lineage_columns(model, existing)

    def _add_lineage_columns(self, model: str, tables: set[str]) -> None:
        """A raw table from before a lineage column existed (a warehouse built by an earlier
        version) gets it, the environment filled from its rows' files. The filled rows are copied
        aside first (Spark cannot overwrite the table it reads), so a run killed midway leaves
        the copy, and the next run finishes from it."""
        from pyspark.sql import functions as F

        table, refill = raw_table(model), f"_stigg_refill_{model.lower()}"
        columns = {c.lower() for c in self.spark.table(table).columns}
        missing = tuple(c for c in LINEAGE_COLUMNS if c.name not in columns)
        if missing and ENVIRONMENT_COLUMN in {c.name for c in missing}:
            files = self.spark.table(table).select(SOURCE_FILE_COLUMN).distinct().collect()
            named = [
                (row[0], environment) for row in files if (environment := file_environment(row[0]))
            ]
            if named:
                mapping = self.spark.createDataFrame(named, "path string, environment string")
                rows = self.spark.table(table)
                filled = rows.join(F.broadcast(mapping), rows[SOURCE_FILE_COLUMN] == mapping.path)
                filled.withColumn(ENVIRONMENT_COLUMN, F.col("environment")).drop(
                    "path", "environment"
                ).write.mode("overwrite").saveAsTable(f"{RAW_SCHEMA}.{refill}")
                tables.add(refill)
        if missing:
            definitions = column_definitions(missing, TYPES, not_null=False)
            self.spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({definitions})")
        if refill in tables:
            order = self.spark.table(table).columns
            self.spark.table(f"{RAW_SCHEMA}.{refill}").select(*order).write.insertInto(
                table, overwrite=True
            )
            self.spark.sql(f"DROP TABLE {RAW_SCHEMA}.{refill}")

    def recorded(self, statuses: Sequence[str], model: str | None = None) -> set[tuple[str, str]]:
        from pyspark.sql import functions as F

        if not _fresh(self.spark, MANIFEST_TABLE):
            return set()
        manifest = self.spark.table(MANIFEST_TABLE).where(F.col("status").isin(list(statuses)))
        if model is not None:
            manifest = manifest.where(F.col("model") == model)
        return {
            (row.path, row.fingerprint) for row in manifest.select("path", "fingerprint").collect()
        }

    def record(self, rows: Sequence[tuple]) -> None:
        from pyspark.sql import functions as F

        manifest_schema = self.spark.table(MANIFEST_TABLE).schema
        records = self.spark.createDataFrame(
            [(*row, None) for row in rows], schema=manifest_schema
        ).withColumn("recorded_at", F.current_timestamp())
        records.write.insertInto(MANIFEST_TABLE, overwrite=False)

    def check_visible(self, f: ExportFile) -> None:
        """Fail clearly when the server cannot see the export where the client listed it."""
        try:
            self.spark.read.format("binaryFile").load(f.uri).select("length").limit(1).collect()
        except _landing_errors() as exc:
            raise ExportNotVisibleError(
                f"The Spark server cannot read {f.uri}, which this machine listed in the export. "
                "With a remote Spark server, STIGG_EXPORT_URI must be a path the server sees "
                f"(a shared folder, or s3:// where the server has S3 configured): {str(exc)[:300]}"
            ) from exc

    def land_batch(
        self,
        model: str,
        batch: Sequence[ExportFile],
        load_id: str,
        layout: TextLayout | None = None,
    ) -> dict[str, int]:
        """Overwrite the batch's files' partitions with their rows. Rows per file."""
        from pyspark.sql import functions as F

        source = self._read(batch, layout)
        data_columns = [c for c in source.columns if c != "_stigg_reader_file"]
        self._evolve_raw_table(model, [(c, source.schema[c].dataType) for c in data_columns])
        files = self.spark.createDataFrame(
            [tuple(getattr(f, c.file_attribute) for c in FILE_LINEAGE) for f in batch],
            schema=", ".join(f"{c.file_attribute} {TYPES[c.type]}" for c in FILE_LINEAGE),
        )
        rows = source.join(F.broadcast(files), source["_stigg_reader_file"] == files["path"])
        by_name = {c.lower(): c for c in data_columns}
        table_columns = self.spark.table(raw_table(model)).columns
        run_values = {LOAD_ID_COLUMN: F.lit(load_id), LOADED_AT_COLUMN: F.current_timestamp()}
        lineage = {
            c.name: F.col(c.file_attribute) if c.file_attribute else run_values[c.name]
            for c in LINEAGE_COLUMNS
        }
        select = []
        for column in table_columns:
            if column in lineage:
                value = lineage[column].cast(LINEAGE_TYPES[column])
            elif column in by_name:
                value = _as_text(
                    source.schema[by_name[column]].dataType, F.col(f"`{by_name[column]}`")
                )
            else:
                value = F.lit(None).cast("string")
            select.append(value.alias(column))
        rows.select(*select).write.insertInto(raw_table(model), overwrite=True)
        landed = self._rows_per_file(model, batch)
        # The commit: a file whose rows landed but whose manifest row did not is landed again.
        self.record(manifest_rows(model, batch, load_id, status="landed", rows=landed))
        return landed

    def _read(self, batch: Sequence[ExportFile], layout: TextLayout | None) -> DataFrame:
        """Parquet with its own types (merged across the batch); CSV and NDJSON with the layout
        and options of sources/text_files.py, every column a string."""
        from pyspark.sql import functions as F

        uris = [f.uri for f in batch]
        fmt = batch[0].format
        if fmt == "parquet":
            reader = self.spark.read.option("mode", "FAILFAST").option("mergeSchema", "true")
            frame = reader.parquet(*uris)
        else:
            assert layout is not None, "a text file lands with its layout (landing.py)"
            options = (
                text_files.spark_csv_options(layout)
                if fmt == "csv"
                else text_files.spark_json_options(layout)
            )
            reader = self.spark.read.options(**options).schema(text_files.spark_schema(layout))
            frame = reader.csv(uris) if fmt == "csv" else reader.json(uris)
        return frame.withColumn(
            "_stigg_reader_file",
            F.regexp_extract(F.col("_metadata.file_path"), _RELATIVE_PATH_PATTERN, 1),
        )

    def _rows_per_file(self, model: str, batch: Sequence[ExportFile]) -> dict[str, int]:
        from pyspark.sql import functions as F

        paths = [f.path for f in batch]
        counted = {
            row[0]: row[1]
            for row in self.spark.table(raw_table(model))
            .where(F.col(SOURCE_FILE_COLUMN).isin(paths))
            .groupBy(SOURCE_FILE_COLUMN)
            .count()
            .collect()
        }
        return {path: counted.get(path, 0) for path in paths}

    def _evolve_raw_table(self, model: str, incoming: Sequence[tuple[str, object]]) -> None:
        existing = {c.lower() for c in self.spark.table(raw_table(model)).columns}
        added = []
        for name, _ in incoming:
            column = name.lower()
            if column in LINEAGE_COLUMN_NAMES:
                raise ValueError(f"column {name!r} collides with a lineage column of raw.{model}")
            if column not in existing and column not in added:
                added.append(column)
        if added:
            columns = ", ".join(f"{quote_identifier(c)} string" for c in added)
            self.spark.sql(f"ALTER TABLE {raw_table(model)} ADD COLUMNS ({columns})")

    def failure_reason(self, error: BaseException) -> str:
        """Spark's message, first line (its error class names the fault)."""
        lines = [line for line in str(error).strip().splitlines() if line.strip()]
        return lines[0][:500] if lines else type(error).__name__

    def disk_is_full(self) -> bool:
        return False  # the server's storage: its errors say so themselves

    def table_summary(self, model: str) -> tuple[int, datetime | None]:
        row = self.spark.sql(
            f"SELECT count(*), max(_stigg_transfer_at) FROM {raw_table(model)}"
        ).collect()[0]
        return row[0], row[1]


def _as_text(data_type, column):
    """A column as raw keeps it: text, nested values as JSON, an instant in UTC with its offset
    (`2025-01-01 00:00:00.12+00`, as DuckDB writes one as text, so that both engines' raw hold
    the same text)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StringType, StructType, TimestampType

    if isinstance(data_type, StringType):
        return column
    if isinstance(data_type, ArrayType | MapType | StructType):
        return F.to_json(column)
    if isinstance(data_type, TimestampType):  # the session's time zone is UTC (connect)
        return F.concat(column.cast("string"), F.lit("+00"))
    return column.cast("string")


def drop_raw_layer(spark: SparkSession) -> None:
    """A full refresh: the raw tables and the manifest go, and every export file lands again.
    The published views keep showing the last build until the run publishes."""
    spark.sql(f"DROP DATABASE IF EXISTS {RAW_SCHEMA} CASCADE")
    spark.sql(f"DROP TABLE IF EXISTS {MANIFEST_TABLE}")


# --- publishing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    slot: str
    views: int
    seconds: float


def _fresh(spark: SparkSession, table: str) -> bool:
    """Whether `table` exists, with this session's cached file list of it dropped: a session
    keeps the files it listed, and another session (a run) may have written since."""
    if not spark.catalog.tableExists(table):
        return False
    spark.catalog.refreshTable(table)
    return True


def _latest(spark: SparkSession, table: str, column: str, where: str = "true") -> str | None:
    """`column` of the newest row of a bookkeeping table (each has one timestamp column, its
    last), or None when the table or the row does not exist."""
    if not _fresh(spark, table):
        return None
    ordered_by = spark.table(table).columns[-1]
    rows = spark.sql(
        f"SELECT {column} FROM {table} WHERE {where} ORDER BY {ordered_by} DESC LIMIT 1"
    ).collect()
    return rows[0][0] if rows else None


def published_slot(spark: SparkSession) -> str | None:
    """The build slot that the published views show, or None before the first publish."""
    return _latest(spark, PUBLICATIONS_TABLE, "slot")


def published_fingerprint(spark: SparkSession) -> str | None:
    """The input fingerprint of the published build, or None."""
    return _latest(spark, PUBLICATIONS_TABLE, "fingerprint")


def build_slot(spark: SparkSession) -> str:
    """The slot a run builds into: the one readers are not looking at."""
    current = published_slot(spark)
    return BUILD_SLOTS[1] if current == BUILD_SLOTS[0] else BUILD_SLOTS[0]


def manifest_input(spark: SparkSession) -> list[tuple[str, str | None, str]]:
    """The manifest's distinct (path, fingerprint, status): part of a build's input."""
    if not _fresh(spark, MANIFEST_TABLE):
        return []
    columns = ", ".join(MANIFEST_INPUT_COLUMNS)
    return [
        tuple(row)
        for row in spark.sql(f"SELECT DISTINCT {columns} FROM {MANIFEST_TABLE}").collect()
    ]


def record_build(spark: SparkSession, slot: str, fingerprint: str) -> None:
    """Build slot `slot` holds the build of the input `fingerprint` (dbt succeeded)."""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} "
        "(slot string, fingerprint string, built_at timestamp) USING parquet"
    )
    spark.sql(
        f"INSERT INTO {BUILDS_TABLE} VALUES "
        f"({_sql_literal(slot)}, {_sql_literal(fingerprint)}, current_timestamp())"
    )


def publish(spark: SparkSession, slot: str, run_id: str) -> PublishResult:
    """Point every published view at build slot `slot`, then record the switch.

    Each view is replaced in one statement, so a reader sees a whole table of one build or of
    the other, never a missing or half-built one. Views of relations that the slot no longer
    has are dropped.
    """
    import time

    started = time.monotonic()
    views = 0
    for layer in PUBLISHED_LAYERS:
        built_schema = slot_schema(layer, slot)
        if not spark.catalog.databaseExists(built_schema):
            continue
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer}")
        built = {row.tableName for row in spark.sql(f"SHOW TABLES IN {built_schema}").collect()}
        published = {
            row.viewName
            for row in spark.sql(f"SHOW VIEWS IN {layer}").collect()
            if not row.isTemporary
        }
        for name in sorted(built):
            spark.sql(
                f"CREATE OR REPLACE VIEW {layer}.{quote_identifier(name)} AS "
                f"SELECT * FROM {built_schema}.{quote_identifier(name)}"
            )
            views += 1
        for stale in sorted(published - built):
            spark.sql(f"DROP VIEW IF EXISTS {layer}.{quote_identifier(stale)}")
    fingerprint = _latest(spark, BUILDS_TABLE, "fingerprint", f"slot = {_sql_literal(slot)}") or ""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {PUBLICATIONS_TABLE} "
        "(slot string, run_id string, fingerprint string, published_at timestamp) USING parquet"
    )
    spark.sql(
        f"INSERT INTO {PUBLICATIONS_TABLE} VALUES ({_sql_literal(slot)}, {_sql_literal(run_id)}, "
        f"{_sql_literal(fingerprint)}, current_timestamp())"
    )
    return PublishResult(slot, views, time.monotonic() - started)
