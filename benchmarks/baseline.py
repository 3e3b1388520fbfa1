"""What the pipeline is measured against: the same files read and built by DuckDB alone.

The plain-SQL build is, on purpose, a second hand-written copy of the project's current-state
rule (the rule itself: dbt_project/macros/stigg/versions.sql and current_state.sql). It stands for
what an engineer would write with no framework, so its cost is the baseline of "full run vs
plain SQL", and tests/pipeline/test_benchmark.py checks it against the pipeline's tables: an
independent copy is what makes that check worth something. It takes from the project only what
is data, not rule: the tables, their columns and keys (orchestration/spec/tables.py) and each
column's warehouse type (dbt_project.yml's vars.stigg_column_types, through the spec).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from orchestration.spec.tables import TABLES, Table


def duckdb_bulk_read(files: dict[str, list[str]], path: Path) -> tuple[float, int]:
    """DuckDB's own read of the same files into tables: the speed landing is measured against."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    started = time.monotonic()
    rows = 0
    for model, model_files in files.items():
        if model_files:
            con.execute(
                f"CREATE TABLE {model} AS SELECT * FROM read_parquet(?, union_by_name = true)",
                [model_files],
            )
            rows += con.execute(f"SELECT count(*) FROM {model}").fetchone()[0]
    con.execute("CHECKPOINT")
    seconds = time.monotonic() - started
    con.close()
    return seconds, rows


def plain_sql_build(files: dict[str, list[str]], path: Path) -> float:
    """The 17 tables by hand: the same typing and the same dedup rule, straight from the files.

    One CREATE TABLE AS per table, each row typed to the doc (TRY_CAST), and QUALIFY keeping a
    key's row with the latest UPDATED_AT, then the later transfer, file and content hash: what
    an engineer would write with no framework, no raw layer, no rejects and no tests.
    """
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    started = time.monotonic()
    for table in TABLES:
        if files[table.model]:
            con.execute(plain_sql(table, con, files[table.model]), [files[table.model]])
    con.execute("CHECKPOINT")
    seconds = time.monotonic() - started
    con.close()
    return seconds


def plain_sql(table: Table, con: duckdb.DuckDBPyConnection, model_files: list[str]) -> str:
    """One table's CREATE TABLE AS, as written by hand (see the module's docstring): the version
    order below is a deliberate copy of stigg_version_order's, except its last tie-break, which
    hashes the row's text as DuckDB casts it rather than the project's engine-neutral text."""
    present = {
        r[0].lower()
        for r in con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [model_files]
        ).fetchall()
    }
    typed = []
    for column in table.columns:
        target = table.warehouse_type(column)
        source = f'"{column.name.lower()}"' if column.name.lower() in present else "NULL"
        typed.append(f'TRY_CAST({source} AS {target}) AS "{column.name}"')
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    updated = (
        "coalesce(UPDATED_AT, transfer_at) DESC, " if "UPDATED_AT" in table.column_names else ""
    )
    # The transfer's time is in each file's name (`<part>_<YYYYMMDDHHMMSS>.<ext>`).
    return f"""
    CREATE TABLE "{table.name}" AS
    SELECT {names} FROM (
        SELECT {", ".join(typed)}, filename,
               strptime(regexp_extract(filename, '_(\\d{{14}})\\.[a-z.]+$', 1), '%Y%m%d%H%M%S')::TIMESTAMPTZ AS transfer_at
        FROM read_parquet(?, union_by_name = true, filename = true, hive_partitioning = false)
    )
    QUALIFY row_number() OVER (
        PARTITION BY {", ".join(table.key)}
        ORDER BY {updated}transfer_at DESC, filename DESC, md5(CAST(row({names}) AS VARCHAR)) DESC
    ) = 1
    """
