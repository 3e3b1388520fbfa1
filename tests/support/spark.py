"""Reading a Spark warehouse for the tests: its relations as rows, comparable with DuckDB's."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tests.support.warehouse import LOAD_COLUMNS


@contextmanager
def spark_session(remote: str) -> Iterator:
    from orchestration.runtime.engines.spark import tables as spark

    session = spark.connect(remote)
    try:
        yield session
    finally:
        session.stop()


def canonical(value):
    """A value as both engines' Arrow gives it, in one form: timestamps in UTC, decimals
    normalised, doubles to 9 significant digits (aggregates of doubles sum in another order)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.normalize()) if value != 0 else "0"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.9g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        return tuple(canonical(v) for v in value)
    return value


def rows_of(table, columns: list[str]) -> list[tuple]:
    """An Arrow table's rows (of `columns`), canonical and sorted."""
    data = table.select(columns).to_pylist()
    return sorted(
        (tuple(canonical(row[c]) for c in columns) for row in data),
        key=lambda row: tuple("" if v is None else str(v) for v in row),
    )


def duckdb_relations(path: Path, schemas: tuple[str, ...]) -> dict[str, list[str]]:
    """`schema.name` -> columns of each relation of `schemas` in a DuckDB warehouse."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "SELECT table_schema, table_name, list(column_name ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE list_contains(?, table_schema) GROUP BY ALL",
            [list(schemas)],
        ).fetchall()
    return {f"{schema}.{name}": columns for schema, name, columns in found}


def duckdb_rows(path: Path, relation: str, columns: list[str]) -> list[tuple]:
    schema, name = relation.split(".")
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        table = con.execute(f'SELECT * FROM "{schema}"."{name}"').fetch_arrow_table()
    return rows_of(table, columns)


def spark_rows(session, relation: str, columns: list[str]) -> list[tuple]:
    return rows_of(session.table(relation).toArrow(), columns)


def differences(duckdb_path: Path, session, schemas: tuple[str, ...]) -> dict[str, str]:
    """Each relation of `schemas` whose rows differ between the DuckDB warehouse and Spark's
    published one (load columns aside), with what differs."""
    found = {}
    for relation, columns in sorted(duckdb_relations(duckdb_path, schemas).items()):
        content = [c for c in columns if c not in LOAD_COLUMNS]
        try:
            spark_columns = session.table(relation).columns
        except Exception as error:
            found[relation] = f"missing on Spark: {str(error)[:200]}"
            continue
        if [c.lower() for c in spark_columns] != [c.lower() for c in columns]:
            found[relation] = f"columns {columns} on DuckDB, {spark_columns} on Spark"
            continue
        expected = duckdb_rows(duckdb_path, relation, content)
        actual = spark_rows(session, relation, content)
        if expected != actual:
            missing = [row for row in expected if row not in actual][:3]
            extra = [row for row in actual if row not in expected][:3]
            found[relation] = (
                f"{len(expected)} rows on DuckDB, {len(actual)} on Spark; "
                f"only on DuckDB: {missing}; only on Spark: {extra}"
            )
    return found


def raw_differences(duckdb_path: Path, session, models: list[str]) -> dict[str, str]:
    """Each raw table whose rows differ between the engines, compared as text (DuckDB's typed
    columns cast to VARCHAR; Spark's raw is text), lineage columns aside."""
    found = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for model in models:
            duck_columns = [
                name
                for (name,) in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'raw' AND table_name = ?",
                    [model],
                ).fetchall()
                if not name.startswith("_stigg_")
            ]
            spark_columns = [
                c for c in session.table(f"raw.`{model}`").columns if not c.startswith("_stigg_")
            ]
            if sorted(duck_columns) != sorted(spark_columns):
                found[model] = f"columns {sorted(duck_columns)} on DuckDB, {sorted(spark_columns)}"
                continue
            columns = sorted(duck_columns)
            select = ", ".join(
                f'CAST("{c.replace(chr(34), chr(34) * 2)}" AS VARCHAR)' for c in columns
            )
            expected = sorted(
                con.execute(f'SELECT {select or "1"} FROM raw."{model}"').fetchall(), key=repr
            )
            actual = sorted(
                (tuple(row) for row in session.table(f"raw.`{model}`").select(*columns).collect())
                if columns
                else [(1,)] * session.table(f"raw.`{model}`").count(),
                key=repr,
            )
            if expected != actual:
                missing = [row for row in expected if row not in actual][:3]
                extra = [row for row in actual if row not in expected][:3]
                found[model] = f"only on DuckDB: {missing}; only on Spark: {extra}"
    return found
