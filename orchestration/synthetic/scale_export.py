"""Writes a Stigg export of any size, vectorised in DuckDB SQL and streamed to Parquet.

Every file is one `COPY (SELECT ... FROM range(...)) TO '...parquet'`: DuckDB computes the rows in
vectors and streams them to disk, so memory stays bounded (`memory_limit`) at any size. Rows
follow from the spec (orchestration/spec/tables.py): every documented column, with its type, enum
values and NOT NULL. References point at rows that exist, by the key that FOREIGN_KEYS_HOLD says.

A record is a pure function of (its index i, the transfer v that wrote this version), so the
export behaves as a real one does (shared/stigg-export-format.md):
- records are created across the transfers; mutable ones are updated in later transfers (a new
  row with a later UPDATED_AT); usage events and measurements are insert-only;
- a few rows of each transfer are written again, identical, by the next one (the window's edge);
- files sit in `<model>/dt=<YYYY-MM-DD>/<part>_<YYYYMMDDhhmmss>.parquet`, large ones in parts.

The sample export (synthetic/sample_export.py) covers the edge cases; this one covers size.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import duckdb

from orchestration.spec.tables import (
    BOOLEAN,
    NUMBER,
    TABLES,
    TABLES_BY_NAME,
    TIMESTAMP_TZ,
    WHOLE_NUMBER,
    Column,
    Table,
    reference_target,
)

FIRST_TRANSFER_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
ENVIRONMENT_IDS = (
    "8f14e45f-ceea-467a-9575-b2d8f0b9a3c1",
    "c9f0f895-fb98-4b91-a2d3-1e6a0d7b5e42",
)
EVENT_NAMES = ("api_call", "seat_added", "file_uploaded", "report_exported", "storage_gb_hour")
MAX_ROWS_PER_FILE = 5_000_000
EDGE_REPEAT_ONE_IN = 500  # rows of a transfer written again by the next one
UPDATE_ONE_IN = 40  # of the existing mutable records, updated per transfer


@dataclass(frozen=True)
class Preset:
    customers: int
    usage_events: int
    transfers: int = 30


PRESETS = {
    "S": Preset(customers=1_000, usage_events=100_000),
    "M": Preset(customers=100_000, usage_events=10_000_000),
    "L": Preset(customers=1_000_000, usage_events=100_000_000),
}


@dataclass(frozen=True)
class Shape:
    """What an export looks like, whatever its size: how often records change, how many
    measurements there are per event, how many distinct event names and plans."""

    # Tables whose every record has this many versions, one per transfer from its creation on
    # (a record created in the last transfers has fewer); the others change one time in 40.
    versions: tuple[tuple[str, int], ...] = ()
    measurements_per_event: float = 0.1
    event_names: int | None = None  # None: the five names of EVENT_NAMES
    plans: int = 9


SHAPES = {
    # Records change now and then; five event names, nine plans.
    "default": Shape(),
    # Every subscription in 3 versions, every customer and entitlement in 2; twice the
    # measurements; 20 event names and 50 plans.
    "versions": Shape(
        versions=(("SUBSCRIPTIONS", 3), ("CUSTOMERS", 2), ("ENTITLEMENTS", 2)),
        measurements_per_event=0.2,
        event_names=20,
        plans=50,
    ),
    # For robustness: 100k distinct event names and plans (event names that embed ids).
    "wide": Shape(event_names=100_000, plans=100_000),
}


def _records(preset: Preset, shape: Shape) -> dict[str, int]:
    """Records per table; the catalog's sizes are fixed but for the number of plans."""
    c, e, plans = preset.customers, preset.usage_events, shape.plans
    return {
        "PRODUCTS": 3,
        "FEATURES": 30,
        "PLANS": plans,
        "ADDONS": 6,
        "PRICES": 2 * plans + 6,  # two per plan, one per add-on
        "PACKAGE_ENTITLEMENTS": 10 * plans,
        "COUPONS": 20,
        "CUSTOMERS": c,
        "CUSTOMER_RESOURCES": max(1, c // 4),
        "SUBSCRIPTIONS": c,
        "SUBSCRIPTION_PRICES": c,
        "SUBSCRIPTION_ADDONS": max(1, c // 5),
        "SUBSCRIPTION_APPLIED_COUPONS": max(1, c // 20),
        "PROMOTIONAL_ENTITLEMENTS": max(1, c // 20),
        "ENTITLEMENTS": 3 * c,
        "USAGE_MEASUREMENTS": max(1, int(e * shape.measurements_per_event)),
        "USAGE_EVENTS": e,
    }


_CATALOG = {"PRODUCTS", "FEATURES", "PLANS", "ADDONS", "PRICES", "PACKAGE_ENTITLEMENTS", "COUPONS"}
_INSERT_ONLY = {"USAGE_EVENTS", "USAGE_MEASUREMENTS"}

# Columns whose value is not the type's default (SQL over i, v, created_at, transfer_at, seed);
# the ones that depend on the shape are in _shaped_values.
_SPECIAL: dict[tuple[str, str], str] = {
    ("CUSTOMERS", "EMAIL"): "'user' || i || '@example.com'",
    ("CUSTOMERS", "NAME"): "'Customer ' || i",
    ("CUSTOMERS", "BILLING_CURRENCY"): "['USD', 'EUR', 'GBP'][1 + i % 3]",
    (
        "CUSTOMERS",
        "DELETED_AT",
    ): "CASE WHEN v > 0 AND h(i, 'deleted') % 50 = 0 THEN transfer_at END",
    ("CUSTOMERS", "COUPON_ID"): "NULL",
    ("CUSTOMERS", "DEFAULT_PAYMENT_EXPIRATION_MONTH"): "1 + i % 12",
    ("CUSTOMERS", "DEFAULT_PAYMENT_EXPIRATION_YEAR"): "2026 + i % 5",
    ("SUBSCRIPTIONS", "STATUS"): (
        "CASE WHEN v = 0 OR h(i, 'trial') % 4 = 0 THEN ['IN_TRIAL', 'ACTIVE', 'NOT_STARTED'][1 + h(i, 'start') % 3] "
        "ELSE ['ACTIVE', 'ACTIVE', 'ACTIVE', 'CANCELED', 'EXPIRED', 'PAYMENT_PENDING'][1 + h(i, v) % 6] END"
    ),
    ("SUBSCRIPTIONS", "START_DATE"): "created_at",
    ("SUBSCRIPTIONS", "END_DATE"): "NULL",
    ("SUBSCRIPTIONS", "TRIAL_END_DATE"): "created_at + INTERVAL 14 DAY",
    ("SUBSCRIPTIONS", "RESOURCE_ID"): "NULL",
    ("SUBSCRIPTIONS", "COUPON_ID"): "NULL",
    ("SUBSCRIPTION_PRICES", "SUBSCRIPTION_ID"): lambda ref: ref("SUBSCRIPTIONS", "i"),
    ("SUBSCRIPTION_ADDONS", "QUANTITY"): "1 + h(i, v, 'quantity') % 5",
    ("PLANS", "BASE_PLAN_ID"): "NULL",
    ("PLANS", "VERSION_NUMBER"): "1",
    ("PLANS", "IS_LATEST"): "true",
    ("ADDONS", "VERSION_NUMBER"): "1",
    ("ADDONS", "IS_LATEST"): "true",
    ("PRICES", "PRICE_CURRENCY"): "'USD'",
    ("PRICES", "BILLING_PERIOD"): "['MONTHLY', 'ANNUALLY'][1 + i % 2]",
    ("PRICES", "TIERS"): "NULL",
    ("PACKAGE_ENTITLEMENTS", "FEATURE_ID"): lambda ref: ref("FEATURES", "i % 30"),
    ("USAGE_EVENTS", "RESOURCE_ID"): "NULL",
    ("USAGE_EVENTS", "TIMESTAMP"): "created_at - INTERVAL 2 SECOND",
    ("USAGE_EVENTS", "DIMENSIONS"): "'{\"region\": \"' || ['eu', 'us', 'ap'][1 + i % 3] || '\"}'",
    ("USAGE_EVENTS", "IDEMPOTENCY_KEY"): "'idem-' || i",
    ("USAGE_MEASUREMENTS", "RESOURCE_ID"): "NULL",
    ("USAGE_MEASUREMENTS", "VALUE"): "1 + h(i, 'value') % 20",
    ("ENTITLEMENTS", "RESOURCE_ID"): "NULL",
    ("ENTITLEMENTS", "RESOURCE_UUID"): "NULL",
    ("ENTITLEMENTS", "CUSTOMER_UUID"): lambda ref: ref("CUSTOMERS", "i // 3", "ID"),
    ("ENTITLEMENTS", "CUSTOMER_ID"): lambda ref: ref("CUSTOMERS", "i // 3"),
    ("ENTITLEMENTS", "FEATURE_UUID"): lambda ref: ref("FEATURES", "i % 30", "ID"),
    ("ENTITLEMENTS", "FEATURE_ID"): lambda ref: ref("FEATURES", "i % 30"),
    ("ENTITLEMENTS", "HAS_UNLIMITED_USAGE"): "i % 10 = 0",
    ("ENTITLEMENTS", "USAGE_LIMIT"): "CASE WHEN i % 10 <> 0 THEN 100 * (1 + i % 5) END",
    ("ENTITLEMENTS", "CURRENT_USAGE"): "h(i, v, 'usage') % 600",
    ("ENTITLEMENTS", "IS_DELETED"): "false",
}


def _shaped_values(shape: Shape) -> dict[tuple[str, str], str | Callable]:
    """The special values that follow the shape: prices per plan, event names."""
    plan_prices = 2 * shape.plans
    names = (
        f"{list(EVENT_NAMES)}[1 + h(i, 'event') % {len(EVENT_NAMES)}]"
        if shape.event_names is None
        else f"'event_' || (h(i, 'event') % {shape.event_names})"
    )
    return {
        ("SUBSCRIPTION_PRICES", "PRICE_ID"): lambda ref: ref("PRICES", f"i % {plan_prices}"),
        ("SUBSCRIPTION_ADDONS", "PRICE_ID"): lambda ref: ref("PRICES", f"{plan_prices} + i % 6"),
        ("PRICES", "PACKAGE_ID"): lambda ref: (
            f"CASE WHEN i < {plan_prices} THEN {ref('PLANS', 'i // 2')} "
            f"ELSE {ref('ADDONS', f'i - {plan_prices}')} END"
        ),
        ("PACKAGE_ENTITLEMENTS", "PACKAGE_ID"): lambda ref: ref("PLANS", f"i % {shape.plans}"),
        ("USAGE_EVENTS", "EVENT_NAME"): names,
    }


def _default_value(table: Table, column: Column) -> str:
    """A plausible value of the column's documented type; NULL for one optional row in five."""
    salt = f"'{column.name}'"
    if column.enum:
        values = "[" + ", ".join(f"'{v}'" for v in column.enum) + "]"
        value = f"{values}[1 + h(i, v, {salt}) % {len(column.enum)}]"
    elif column.doc_type == TIMESTAMP_TZ:
        value = f"created_at + to_seconds(h(i, {salt}) % 2592000)"
    elif column.doc_type == BOOLEAN:
        value = f"h(i, {salt}) % 2 = 0"
    elif column.doc_type == NUMBER:
        value = f"h(i, {salt}) % 1000"
    elif column.name == "ADDITIONAL_META_DATA":
        value = '\'{"source": "generator"}\''
    else:
        value = f"'{column.name.lower()}-' || h(i, {salt}) % 1000"
    if column.mandatory:
        return value
    return f"CASE WHEN h(i, {salt}, 'null') % 5 <> 0 THEN {value} END"


def key_value(table: str, index: str, column: str | None = None) -> str:
    """The SQL value of record `index`'s ID or public identifier (`column`) in `table`."""
    spec = TABLES_BY_NAME[table]
    column = column or spec.identifier or "ID"
    prefix = spec.model if column == "ID" else (spec.identifier or "ID").lower().removesuffix("_id")
    return f"('{prefix}_{'id' if column == 'ID' else 'ref'}_' || ({index}))"


def _column_value(table: Table, column: Column, records: dict[str, int], shape: Shape) -> str:
    special = _shaped_values(shape).get((table.name, column.name)) or _SPECIAL.get(
        (table.name, column.name)
    )
    if isinstance(special, str):
        return special
    if special is not None:
        return special(
            lambda parent, index, key=None: _parent_key(table, column, parent, index, key, records)
        )
    if column.name == "ID":
        return key_value(table.name, "i", "ID")
    if column.name == table.identifier:
        return key_value(table.name, "i")
    if column.name == "ENVIRONMENT_ID":
        return f"{list(ENVIRONMENT_IDS)}[1 + i % {len(ENVIRONMENT_IDS)}]"
    if column.name == "CREATED_AT":
        return "created_at"
    if column.name == "UPDATED_AT":
        return "updated_at"
    if column.name in table.references:
        parent = table.references[column.name]
        return _parent_key(table, column, parent, f"h(i, '{column.name}')", None, records)
    return _default_value(table, column)


def _parent_key(
    table: Table, column: Column, parent: str, index: str, key: str | None, records: dict[str, int]
) -> str:
    """Record `index` (modulo the parent's size) of `parent`, by the key the column holds."""
    if key is None and column.name in table.references:
        key = reference_target(table, column.name)[1]
    return key_value(parent, f"({index}) % {records[parent]}", key)


def _cast(table: Table, column: Column, value: str) -> str:
    """The documented type, also for a column that is NULL throughout (a bare NULL is INTEGER)."""
    if column.doc_type == NUMBER:
        whole = table.type_key(column) == WHOLE_NUMBER
        return f"CAST({value} AS {'BIGINT' if whole else 'DECIMAL(18,4)'})"
    if column.doc_type == TIMESTAMP_TZ:
        return f"CAST({value} AS TIMESTAMPTZ)"
    if column.doc_type == BOOLEAN:
        return f"CAST({value} AS BOOLEAN)"
    return f"CAST({value} AS VARCHAR)"


@dataclass(frozen=True)
class _Plan:
    """Which records a table creates in each transfer."""

    table: Table
    records: int
    transfers: int
    versions: int = 1  # every record's versions (Shape.versions); 1: it changes one time in 40

    def created_in(self, transfer: int) -> tuple[int, int]:
        if self.table.name in _CATALOG:
            return (0, self.records) if transfer == 0 else (0, 0)
        lo = self.records * transfer // self.transfers
        hi = self.records * (transfer + 1) // self.transfers
        return lo, hi


def _transfer_at(transfer: int) -> datetime:
    return FIRST_TRANSFER_AT + timedelta(days=transfer, minutes=7 * (transfer % 5))


def _rows_sql(plan: _Plan, transfer: int, part_range: tuple[int, int], first_part: bool) -> str:
    """The SELECT of one file: new records, plus (in part 0) updates and the previous edge."""
    lo, hi = part_range
    versions = [f"SELECT range AS i, {transfer} AS v FROM range({lo}, {hi})"]
    if first_part and transfer > 0:
        created_lo, _ = plan.created_in(transfer)
        existing = plan.records if plan.table.name in _CATALOG else created_lo
        if plan.versions > 1:
            # The records created in the transfers before this one, up to versions - 1 ago.
            first_lo, _ = plan.created_in(max(0, transfer - plan.versions + 1))
            _, last_hi = plan.created_in(transfer - 1)
            versions.append(f"SELECT range AS i, {transfer} AS v FROM range({first_lo}, {last_hi})")
        elif plan.table.name not in _INSERT_ONLY and existing:
            versions.append(
                f"SELECT range AS i, {transfer} AS v FROM range(0, {existing}) "
                f"WHERE h(range, {transfer}, 'update') % {UPDATE_ONE_IN} = 0"
            )
        prev_lo, prev_hi = plan.created_in(transfer - 1)
        if prev_hi > prev_lo:
            versions.append(
                f"SELECT range AS i, {transfer - 1} AS v FROM range({prev_lo}, {prev_hi}) "
                f"WHERE h(range, 'edge') % {EDGE_REPEAT_ONE_IN} = 0"
            )
    return " UNION ALL ".join(versions)


def _created_transfer_sql(plan: _Plan) -> str:
    if plan.table.name in _CATALOG:
        return "0"
    return f"(i * {plan.transfers} // {plan.records})"


def _file_sql(
    plan: _Plan, transfer: int, rows_sql: str, records: dict[str, int], shape: Shape
) -> str:
    first = _transfer_at(0)
    columns = ",\n    ".join(
        f"{_cast(plan.table, c, _column_value(plan.table, c, records, shape))} AS {c.name}"
        for c in plan.table.columns
    )
    return f"""
    WITH versions AS ({rows_sql}),
    timed AS (
        SELECT i, v,
            TIMESTAMPTZ '{first.isoformat()}' + to_days(CAST({_created_transfer_sql(plan)} AS INTEGER))
                - to_seconds(h(i, 'created') % 86400) AS created_at,
            TIMESTAMPTZ '{first.isoformat()}' + to_days(v) AS transfer_at
        FROM versions
    ),
    stamped AS (
        SELECT *, CASE WHEN v = {_created_transfer_sql(plan)} THEN created_at
                       ELSE transfer_at - to_seconds(h(i, v, 'updated') % 80000) END AS updated_at
        FROM timed
    )
    SELECT
    {columns}
    FROM stamped
    """


@dataclass
class ScaleSummary:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0


class ProgressBar:
    """One line on a terminal, rewritten in place: rows written of the rows planned."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30):
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.started = time.monotonic()
        self.last_decile = -1

    def update(self, done: int, label: str) -> None:
        fraction = min(done / self.total, 1.0)
        if not self.stream.isatty():  # a log, not a terminal: a line per 10%
            if int(fraction * 10) == self.last_decile:
                return
            self.last_decile = int(fraction * 10)
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.started
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(f"[{bar}] {fraction:6.1%} {done:,} rows {elapsed:6.1f}s {label:<48}{end}")
        self.stream.flush()

    def close(self) -> None:
        if self.stream.isatty():
            self.stream.write("\n")


def generate_scale_export(
    out: Path,
    preset: Preset,
    *,
    shape: Shape = SHAPES["default"],
    seed: int = 7,
    memory_limit: str = "2GB",
    progress: ProgressBar | bool | None = True,
) -> ScaleSummary:
    """Write a `preset`-sized export of `shape` to `out` (which must be empty or absent)."""
    started = time.monotonic()
    records = _records(preset, shape)
    versions = dict(shape.versions)
    plans = [_Plan(t, records[t.name], preset.transfers, versions.get(t.name, 1)) for t in TABLES]
    planned = sum(_planned_rows(plan) for plan in plans)
    bar = ProgressBar(planned) if progress is True else (progress or None)
    summary = ScaleSummary()
    con = duckdb.connect(
        config={"memory_limit": memory_limit, "autoinstall_known_extensions": "false"}
    )
    con.execute("SET TimeZone = 'UTC'")
    seed = int(seed)  # h(...): a deterministic pseudo-random UBIGINT of its arguments and the seed
    con.execute(
        f"CREATE MACRO h(a) AS CAST(hash(a, {seed}) >> 1 AS BIGINT), "
        f"(a, b) AS CAST(hash(a, b, {seed}) >> 1 AS BIGINT), "
        f"(a, b, c) AS CAST(hash(a, b, c, {seed}) >> 1 AS BIGINT)"
    )
    try:
        for transfer in range(preset.transfers):
            at = _transfer_at(transfer)
            for plan in plans:
                lo, hi = plan.created_in(transfer)
                parts = _parts(lo, hi) if hi > lo else [(lo, lo)]
                for number, part_range in enumerate(parts):
                    rows_sql = _rows_sql(plan, transfer, part_range, first_part=number == 0)
                    folder = out / plan.table.model / f"dt={at:%Y-%m-%d}"
                    folder.mkdir(parents=True, exist_ok=True)
                    path = folder / f"{number:04d}_{at:%Y%m%d%H%M%S}.parquet"
                    sql = _file_sql(plan, transfer, rows_sql, records, shape)
                    written = con.execute(
                        f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
                    ).fetchone()[0]
                    if written == 0:
                        path.unlink()
                        continue
                    summary.files += 1
                    summary.rows += written
                    summary.bytes += path.stat().st_size
                    if bar:
                        bar.update(
                            summary.rows,
                            f"transfer {transfer + 1}/{preset.transfers} {plan.table.model}",
                        )
    finally:
        con.close()
        if bar:
            bar.close()
    summary.seconds = time.monotonic() - started
    return summary


def _planned_rows(plan: _Plan) -> int:
    """About how many rows a table's files will hold: records, updates and edge repeats."""
    updates = 0
    if plan.versions > 1:
        updates = plan.records * (plan.versions - 1)
    elif plan.table.name in _CATALOG:
        updates = plan.records * (plan.transfers - 1) // UPDATE_ONE_IN
    elif plan.table.name not in _INSERT_ONLY:
        updates = plan.records * (plan.transfers - 1) // (2 * UPDATE_ONE_IN)
    return plan.records + updates + plan.records // EDGE_REPEAT_ONE_IN


def _parts(lo: int, hi: int) -> list[tuple[int, int]]:
    return [
        (start, min(start + MAX_ROWS_PER_FILE, hi)) for start in range(lo, hi, MAX_ROWS_PER_FILE)
    ]
