"""Helpers of the API source's tests: the records that a fake API serves, read from a built
warehouse's documented tables, so that the export and the API tell the same story."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.spec.api import API_MODELS

API_TABLES = tuple(m.table.name for m in API_MODELS)


def records_of(warehouse: Path) -> dict[str, dict[str, list[dict]]]:
    """environment -> documented table -> its rows (typed), for the tables the API serves."""
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    records: dict[str, dict[str, list[dict]]] = {}
    try:
        for table in API_TABLES:
            cursor = con.execute(f"SELECT * FROM stigg.{table}")
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                records.setdefault(row["ENVIRONMENT_ID"], {}).setdefault(table, []).append(row)
    finally:
        con.close()
    return records
