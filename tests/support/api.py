"""Helpers of the API source's tests: the records that a fake API serves, read from a built
warehouse's documented tables, so that the export and the API tell the same story."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.spec.api import API_MODELS, columns_the_api_lacks

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


def differences_from_export(export_warehouse: Path, api_warehouse: Path) -> dict[str, tuple]:
    """Per documented table the API fills: (rows only the export's build has, rows only the
    API's build has), over the columns the API gives (spec/api.py's columns_the_api_lacks
    excepted). Live records only: the API lists no deleted entitlement."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{export_warehouse}' AS export_build (READ_ONLY)")
    con.execute(f"ATTACH '{api_warehouse}' AS api_build (READ_ONLY)")
    found = {}
    try:
        for api_model in API_MODELS:
            table = api_model.table
            lacking = set(columns_the_api_lacks(api_model.model))
            columns = ", ".join(f'"{c}"' for c in table.column_names if c not in lacking)
            live = "WHERE NOT IS_DELETED" if "IS_DELETED" in table.column_names else ""
            export_rows = f"SELECT {columns} FROM export_build.stigg.{table.name} {live}"
            api_rows = f"SELECT {columns} FROM api_build.stigg.{table.name}"
            only_export = con.execute(f"{export_rows} EXCEPT ALL {api_rows}").fetchall()
            only_api = con.execute(f"{api_rows} EXCEPT ALL {export_rows}").fetchall()
            if only_export or only_api:
                found[table.name] = (only_export, only_api)
    finally:
        con.close()
    return found


def _t(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def small_records(environment: str, customers: int = 7) -> dict[str, list[dict]]:
    """A hand-made environment: `customers` customers, each with one subscription to the one
    plan, one feature, one product. Enough to page (at a small page size) and to fault."""
    rows: dict[str, list[dict]] = {
        "PRODUCTS": [
            {"ID": "prod-1", "PRODUCT_ID": "product-main", "DISPLAY_NAME": "Main",
             "DESCRIPTION": None, "CREATED_AT": _t(1), "UPDATED_AT": _t(1),
             "ENVIRONMENT_ID": environment, "MULTIPLE_SUBSCRIPTIONS": False,
             "ADDITIONAL_META_DATA": None},
        ],
        "PLANS": [
            {"ID": "plan-1", "CREATED_AT": _t(1), "UPDATED_AT": _t(2), "PLAN_ID": "plan-pro",
             "BILLING_ID": None, "BILLING_LINK_URL": None, "DISPLAY_NAME": "Pro",
             "PRICING_TYPE": "PAID", "DESCRIPTION": None, "ENVIRONMENT_ID": environment,
             "IS_LATEST": True, "VERSION_NUMBER": 1, "ADDITIONAL_META_DATA": '{"tier": "pro"}',
             "PRODUCT_ID": "product-main", "BASE_PLAN_ID": None},
        ],
        "FEATURES": [
            {"ID": "feat-1", "DISPLAY_NAME": "Seats", "FEATURE_ID": "feature-seats",
             "CREATED_AT": _t(1), "UPDATED_AT": _t(1), "FEATURE_UNITS": "seat",
             "FEATURE_UNITS_PLURAL": "seats", "DESCRIPTION": None, "FEATURE_TYPE": "NUMBER",
             "METER_TYPE": "FLUCTUATING", "ENVIRONMENT_ID": environment,
             "ADDITIONAL_META_DATA": None},
        ],
        "CUSTOMERS": [],
        "SUBSCRIPTIONS": [],
    }  # fmt: skip
    for n in range(customers):
        rows["CUSTOMERS"].append(
            {"CUSTOMER_ID": f"customer-{n}", "EMAIL": f"c{n}@example.com", "NAME": f"C {n}",
             "BILLING_CURRENCY": "USD", "BILLING_ID": None, "BILLING_LINK_URL": None,
             "DEFAULT_PAYMENT_EXPIRATION_MONTH": 12, "DEFAULT_PAYMENT_EXPIRATION_YEAR": 2030,
             "DEFAULT_PAYMENT_METHOD_ID": None, "DEFAULT_PAYMENT_METHOD_LAST4_DIGITS": None,
             "DEFAULT_PAYMENT_METHOD_TYPE": "CARD", "DELETED_AT": None,
             "ENVIRONMENT_ID": environment, "HAS_ACTIVE_SUBSCRIPTION": True, "ID": f"cus-{n}",
             "UPDATED_AT": _t(3, n), "CREATED_AT": _t(1, n), "ADDITIONAL_META_DATA": None,
             "COUPON_ID": None}
        )  # fmt: skip
        rows["SUBSCRIPTIONS"].append(
            {"SUBSCRIPTION_ID": f"subscription-{n}", "ENVIRONMENT_ID": environment,
             "ID": f"sub-{n}", "CREATED_AT": _t(1, n), "UPDATED_AT": _t(1, n),
             "START_DATE": _t(1, n), "END_DATE": None, "CANCELLATION_DATE": None,
             "TRIAL_END_DATE": None, "BILLING_ID": None, "OLD_BILLING_ID": None,
             "BILLING_LINK_URL": None, "STATUS": "ACTIVE", "RESOURCE_ID": None,
             "IS_CUSTOM_PRICE_SUBSCRIPTION": False, "CURRENT_BILLING_PERIOD_START": None,
             "CURRENT_BILLING_PERIOD_END": None, "PRICING_TYPE": "PAID",
             "ADDITIONAL_META_DATA": None, "PAYMENT_COLLECTION": "NOT_REQUIRED",
             "CUSTOMER_ID": f"customer-{n}", "PLAN_ID": "plan-pro", "COUPON_ID": None}
        )  # fmt: skip
    return rows


def pulled_rows(folder: Path, model: str, leave_out: tuple[str, ...] = ()) -> list[tuple]:
    """Every row that pulls wrote for `model`, sorted, without the `leave_out` columns."""
    files = sorted(folder.glob(f"{model}/dt=*/*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    try:
        relation = con.read_parquet([str(f) for f in files], union_by_name=True)
        columns = [c for c in relation.columns if c not in leave_out]
        return sorted(relation.select(", ".join(f'"{c}"' for c in columns)).fetchall())
    finally:
        con.close()
