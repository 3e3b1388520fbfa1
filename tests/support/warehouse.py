"""Reading a DuckDB warehouse: queries, and its relations described and compared."""

from __future__ import annotations

from pathlib import Path

import duckdb

# The analytics models (dbt_project/models/analytics/), besides the report.
ANALYTICS_MODELS = (
    "subscription_history",
    "customer_history",
    "subscription_addon_history",
    "subscription_coupon_history",
    "mrr_monthly",
    "mrr_movements_by_customer",
    "mrr_movements",
    "arr",
    "entitlement_utilization",
    "trial_conversion",
    "usage_daily",
    "feature_adoption",
)


# Columns that say when or by which run a row was loaded, not what it holds.
LOAD_COLUMNS = {"_stigg_load_id", "_stigg_loaded_at", "load_id", "recorded_at"}


# Bookkeeping of how the warehouse was built (which loads each incremental table took in, the
# last build's input), not of what it holds: it differs between histories by design.
BOOKKEEPING_TABLES = {"meta.dbt_processed_loads", "meta.build_state"}


def query(path: str | Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def table_checksums(path: str | Path) -> dict[str, tuple[int, str]]:
    """Every table's and view's row count and an order-independent digest of its rows, load
    columns and bookkeeping tables aside."""
    return {
        relation: (described["rows"], described["digest"])
        for relation, described in describe_relations(path).items()
    }


def describe_relations(path: str | Path, schemas: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each table and view (of `schemas`, or of all), bookkeeping aside: its kind, its columns
    with type and nullability, its row count, and an order-independent digest of its rows
    without the load columns."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")  # timestamps cast to text alike on every machine
        relations = con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        described = {}
        for schema, table, kind in relations:
            if f"{schema}.{table}" in BOOKKEEPING_TABLES or (schemas and schema not in schemas):
                continue
            columns = con.execute(
                """SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
                   WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
                [schema, table],
            ).fetchall()
            content = [name for name, _, _ in columns if name not in LOAD_COLUMNS]
            row = "row(" + ", ".join('"' + c.replace('"', '""') + '"' for c in content) + ")"
            relation = f'"{schema}"."{table}"'
            rows, digest = con.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(cast({row} AS varchar)), '' "
                f"ORDER BY md5(cast({row} AS varchar)))), '') FROM {relation}"
            ).fetchone()
            described[f"{schema}.{table}"] = {
                "kind": "view" if kind == "VIEW" else "table",
                "columns": [[name, typ, nullable] for name, typ, nullable in columns],
                "rows": rows,
                "digest": digest,
            }
    return described


def relation_differences(expected: dict[str, dict], actual: dict[str, dict]) -> dict[str, dict]:
    """Of two `describe_relations`, each relation that differs: the parts that differ, as
    (expected, actual); a relation missing on one side is None there."""
    differences = {}
    for relation in sorted(set(expected) | set(actual)):
        want, got = expected.get(relation), actual.get(relation)
        if want != got:
            parts = set(want or {}) | set(got or {})
            differences[relation] = {
                part: ((want or {}).get(part), (got or {}).get(part))
                for part in sorted(parts)
                if (want or {}).get(part) != (got or {}).get(part)
            }
    return differences
