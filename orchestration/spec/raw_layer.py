"""The raw layer's own columns, on either engine: the lineage that every raw row carries, and the
manifest (`meta.landed_files`), one row per export file landed, failed or changed. Each engine
renders its DDL from these (engines/*/), and the raw assets describe them from here."""

from __future__ import annotations

from dataclasses import dataclass

RAW_SCHEMA = "raw"
MANIFEST_TABLE = "meta.landed_files"
SOURCE_FILE_COLUMN = "_stigg_source_file"
LOAD_ID_COLUMN = "_stigg_load_id"
TRANSFER_AT_COLUMN = "_stigg_transfer_at"
ENVIRONMENT_COLUMN = "_stigg_environment_id"
LOADED_AT_COLUMN = "_stigg_loaded_at"


@dataclass(frozen=True)
class RawColumn:
    name: str
    type: str  # string | date | timestamp (with time zone) | bigint
    description: str
    not_null: bool = False
    # A lineage column's value: the attribute of the landed file it copies (runtime's ExportFile);
    # None for the run's own (its load id, the landing time).
    file_attribute: str | None = None


# In the raw tables' order. The file comes last: Spark partitions a raw table by it, and a
# partition column must be the last.
LINEAGE_COLUMNS: tuple[RawColumn, ...] = (
    RawColumn("_stigg_dt", "date", "the transfer's dt= folder", file_attribute="dt"),
    RawColumn(
        TRANSFER_AT_COLUMN,
        "timestamp",
        "the transfer's time, from the file's name",
        file_attribute="transfer_at",
    ),
    RawColumn(LOAD_ID_COLUMN, "string", "the run that landed the row"),
    RawColumn(LOADED_AT_COLUMN, "timestamp", "when the row landed"),
    RawColumn(
        ENVIRONMENT_COLUMN,
        "string",
        "the environment that the file's folder names (usage_events_<id>/), else NULL",
        file_attribute="environment",
    ),
    RawColumn(
        SOURCE_FILE_COLUMN,
        "string",
        "the export file, relative to the export's root",
        file_attribute="path",
    ),
)
FILE_LINEAGE = tuple(c for c in LINEAGE_COLUMNS if c.file_attribute is not None)
LINEAGE_COLUMN_NAMES = frozenset(c.name for c in LINEAGE_COLUMNS)

MANIFEST_COLUMNS: tuple[RawColumn, ...] = (
    RawColumn("path", "string", "the file, relative to the export's root", not_null=True),
    RawColumn("model", "string", "the model (the file's folder)", not_null=True),
    RawColumn("dt", "date", "the transfer's dt= folder"),
    RawColumn("transfer_at", "timestamp", "the transfer's time, from the file's name"),
    RawColumn("format", "string", "parquet, csv or json"),
    RawColumn("size_bytes", "bigint", "the file's size"),
    RawColumn("fingerprint", "string", "the file's version: its size, and its mtime or ETag"),
    RawColumn("status", "string", "landed | failed | changed", not_null=True),
    RawColumn("rows", "bigint", "the rows it landed"),
    RawColumn("error", "string", "why it failed, or changed"),
    RawColumn("load_id", "string", "the run that recorded it"),
    RawColumn("recorded_at", "timestamp", "when it was recorded", not_null=True),
)


def column_definitions(
    columns: tuple[RawColumn, ...], types: dict[str, str], not_null: bool
) -> str:
    """`name type[ NOT NULL]` for each column, in an engine's `types`."""
    return ", ".join(
        f"{c.name} {types[c.type]}{' NOT NULL' if not_null and c.not_null else ''}" for c in columns
    )
