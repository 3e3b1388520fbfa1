"""How an export's CSV and NDJSON files are read: one rule for both engines, decided from the bytes.

Stigg's exports are Parquet (shared/stigg-export-format.md); CSV and NDJSON files are drift. Before
either engine reads one, landing reads it here, once, and either fails it with a reason that is the
same whatever the engine, or hands both engines the same layout:

- Text is UTF-8 (a byte-order mark is allowed). Neither engine is trusted with this: Spark reads
  invalid bytes as U+FFFD without a word. A gzipped file (`.gz`) must be a whole gzip stream.
- CSV is RFC 4180: fields quoted with `"`, a quote inside a quoted field doubled, quoted fields
  may hold newlines. The delimiter is the one of `,` `;` tab `|` found most often, outside quotes,
  in the header line (ties in that order; none found: one column). The header names the columns;
  every record has as many fields; a quote left open fails the file (Spark would read to the end
  of the file as one value). A blank line in a one-column file is ambiguous (DuckDB reads an empty
  record, Spark none) and fails the file.
- NDJSON: every non-blank line is a JSON object. The columns are the keys, in order of first
  appearance; every value lands as text.
- Column names are not empty and are unique without regard to case (raw's columns are lower case).
- A file with no columns (no bytes, or only blank lines) lands as 0 rows without a read.

The engines never sniff: the functions at the end are the one place their reader options are
set, each option as its engine's documentation names it: DuckDB's `read_csv` and `read_json`
(duckdb.org/docs/data/csv/overview, .../data/json/loading_json) and Spark's CSV and JSON data
sources (spark.apache.org/docs/latest/sql-data-sources-csv.html, ...-json.html).
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

QUOTE = '"'
ESCAPE = '"'  # RFC 4180: a quote inside a quoted field is written twice
DELIMITERS = (",", ";", "\t", "|")  # the candidates, in the order that breaks a tie
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
TEXT_FORMATS = ("csv", "json")


class UnreadableFile(Exception):
    """A text file that neither engine reads: the reason is recorded as the file's failure."""


@dataclass(frozen=True)
class TextLayout:
    """What both engines are told of a text file: its columns and, for CSV, its delimiter."""

    columns: tuple[str, ...]
    delimiter: str | None = None  # CSV only

    @property
    def is_empty(self) -> bool:
        return not self.columns


def is_gzipped(uri: str) -> bool:
    return uri.lower().endswith(".gz")


def inspect(stream: BinaryIO, fmt: str, *, gzipped: bool) -> TextLayout:
    """The layout of a CSV (`fmt` "csv") or NDJSON ("json") file, read whole from `stream`; or
    UnreadableFile with the reason."""
    if gzipped:
        stream = gzip.GzipFile(fileobj=stream)
    lines = _text_lines(stream)
    return _csv_layout(lines) if fmt == "csv" else _ndjson_layout(lines)


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text, each with its line ending."""
    number = 0
    try:
        for number, raw in enumerate(stream, start=1):
            if number == 1:
                raw = raw.removeprefix(_BYTE_ORDER_MARK)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"not UTF-8: byte 0x{raw[exc.start]:02x} on line {number}"
                ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFile(f"not a whole gzip stream (after line {number}): {exc}") from None


def _csv_layout(lines: Iterator[str]) -> TextLayout:
    first = next(lines, None)
    if first is None:
        return TextLayout(())
    delimiter = _delimiter(first)
    reader = csv.reader(
        _chain(first, lines), delimiter=delimiter, quotechar=QUOTE, doublequote=True, strict=True
    )
    try:
        header = next(reader, [])
        columns = _column_names(header, "the header")
        for record in reader:
            if not record and len(columns) == 1:
                raise UnreadableFile(
                    f"line {reader.line_num} is blank in a one-column file: an empty value or "
                    "no record, which the engines read differently"
                )
            if record and len(record) != len(columns):
                raise UnreadableFile(
                    f"the record ending on line {reader.line_num} has {len(record)} fields, "
                    f"the header {len(columns)}"
                )
    except csv.Error as exc:
        raise UnreadableFile(f"not RFC 4180 CSV on line {reader.line_num}: {exc}") from None
    return TextLayout(columns, delimiter)


def _delimiter(header_line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == QUOTE:
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else DELIMITERS[0]


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _ndjson_layout(lines: Iterator[str]) -> TextLayout:
    keys: dict[str, str] = {}  # lower case -> as first written
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(
                f"Malformed JSON on line {number}, column {exc.colno}: {exc.msg}"
            ) from None
        if not isinstance(record, dict):
            raise UnreadableFile(f"line {number} is JSON but not an object")
        for key in record:
            first = keys.setdefault(key.lower(), key)
            if first != key:
                raise UnreadableFile(
                    f"keys {first!r} and {key!r} differ only in case (line {number})"
                )
    return TextLayout(_column_names(list(keys.values()), "the keys"))


def _column_names(names: list[str], where: str) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        if not name.strip():
            raise UnreadableFile(f"an empty column name in {where}")
        if name.lower() in seen:
            raise UnreadableFile(
                f"column {name!r} named twice in {where} (raw's column names are lower case)"
            )
        seen[name.lower()] = name
    return tuple(names)


# --- the engines' reader options: the one place they are set -----------------------------------


def duckdb_csv_options(layout: TextLayout) -> dict[str, object]:
    """read_csv's named parameters: nothing sniffed, every column text, a malformed row fails."""
    return {
        "auto_detect": False,
        "header": True,
        "delim": layout.delimiter,
        "quote": QUOTE,
        "escape": ESCAPE,
        "columns": {name: "VARCHAR" for name in layout.columns},
        "strict_mode": True,
        "null_padding": False,
    }


def duckdb_json_options(layout: TextLayout) -> dict[str, object]:
    """read_json's named parameters: one object per line, every key a text column."""
    return {
        "format": "newline_delimited",
        "columns": {name: "VARCHAR" for name in layout.columns},
    }


def spark_csv_options(layout: TextLayout) -> dict[str, str]:
    """DataFrameReader.csv's options (with `spark_schema` as the schema). FAILFAST: a malformed
    record fails the read rather than becoming nulls."""
    return {
        "mode": "FAILFAST",
        "header": "true",
        "enforceSchema": "false",  # the header must name the schema's columns
        "sep": layout.delimiter or DELIMITERS[0],
        "quote": QUOTE,
        "escape": ESCAPE,
        "multiLine": "true",
        "encoding": "UTF-8",
    }


def spark_json_options(layout: TextLayout) -> dict[str, str]:
    """DataFrameReader.json's options (with `spark_schema`): a string column keeps a nested value
    as its JSON text and a number as written."""
    return {"mode": "FAILFAST", "encoding": "UTF-8"}


def spark_schema(layout: TextLayout) -> str:
    """Every column as a string, as a DDL schema that DataFrameReader.schema takes."""
    return ", ".join("`" + name.replace("`", "``") + "` string" for name in layout.columns)
