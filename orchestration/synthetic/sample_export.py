"""Writes a synthetic Stigg export in the real on-disk layout, deterministic for a given seed.

The export exercises what real ones do (shared/stigg-export-format.md): all 17 tables and every
documented enum value; records updated across transfers and identical repeats at the transfer
window's edge; archived customers, a removed coupon and an expired promotion; a plan and an add-on
with a second version; usage events in one `usage_events` folder and in a per-environment
`usage_events_<environment id>` folder; a column added in a later transfer; a file with
lower-case column names, one with timestamps as ISO strings, one CSV and one gzipped NDJSON file;
and the other API's enum spellings (`FLUCTUATING`, `1 month`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.spec.tables import (
    BOOLEAN,
    NUMBER,
    TABLES,
    TABLES_BY_NAME,
    TIMESTAMP_TZ,
    WHOLE_NUMBER,
    Table,
)

FIRST_TRANSFER_AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
ADDED_LATER_COLUMN = "CRM_ACCOUNT_ID"  # an undocumented column that appears in transfer 3
_ENUM_SPELLINGS_OF_OTHER_API = {"Fluctuating": "FLUCTUATING", "ONE_MONTH": "1 month"}


@dataclass(frozen=True)
class ExportConfig:
    customers: int = 300
    seed: int = 7
    transfers: int = 4
    environments: int = 2
    events_per_customer: int = 6  # per transfer, on average


@dataclass
class GenerationSummary:
    files: int = 0
    rows: int = 0
    rows_by_model: dict[str, int] = field(default_factory=dict)


class _World:
    """The current state of every record, and the rows each transfer writes."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.records: dict[str, dict[str, dict]] = {t.name: {} for t in TABLES}
        self.pending: dict[str, list[dict]] = {t.name: [] for t in TABLES}

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{uuid.UUID(int=self.rng.getrandbits(128), version=4).hex[:20]}"

    def put(self, table: str, row: dict) -> dict:
        spec = TABLES_BY_NAME[table]
        full = {c: row.get(c) for c in spec.column_names}
        key = tuple(full[k] for k in spec.key)
        self.records[table][key] = full
        self.pending[table].append(dict(full))
        return full

    def update(self, table: str, row: dict, at: datetime, **changes) -> dict:
        row.update(changes)
        if "UPDATED_AT" in row:
            row["UPDATED_AT"] = at
        return self.put(table, row)

    def take_transfer(self) -> dict[str, list[dict]]:
        rows, self.pending = self.pending, {t.name: [] for t in TABLES}
        return rows


def _cover(values: tuple[str, ...], i: int, rng: random.Random) -> str:
    """Every value once, in order, then random ones: small exports still cover every enum."""
    return values[i] if i < len(values) else rng.choice(values)


def _enum(table: str, column: str) -> tuple[str, ...]:
    values = TABLES_BY_NAME[table].column(column).enum
    assert values is not None
    return values


class _Environment:
    """One Stigg environment: its catalog, customers and their activity."""

    def __init__(self, world: _World, environment_id: str, customers: int, start: datetime):
        self.world = world
        self.rng = world.rng
        self.env = environment_id
        self.customer_count = customers
        self.start = start
        self.catalog_at = start - timedelta(days=120)
        self.features: list[dict] = []
        self.plans: list[dict] = []
        self.addons: list[dict] = []
        self.prices_by_package: dict[str, list[dict]] = {}
        self.coupons: list[dict] = []
        self.customers: list[dict] = []
        self.subscriptions: list[dict] = []
        self.resources: list[dict] = []
        self.customer_serial = 0

    # ---- catalog -------------------------------------------------------------------------
    def build_catalog(self) -> None:
        w, at = self.world, self.catalog_at
        products = [
            w.put(
                "PRODUCTS",
                self._base("prod", at)
                | {
                    "PRODUCT_ID": pid,
                    "DISPLAY_NAME": name,
                    "DESCRIPTION": f"{name} product",
                    "MULTIPLE_SUBSCRIPTIONS": multi,
                    "ADDITIONAL_META_DATA": json.dumps({"tier": i}),
                },
            )
            for i, (pid, name, multi) in enumerate(
                [("product-core", "Core", False), ("product-sites", "Sites", True)]
            )
        ]
        self.products = products
        feature_defs = [
            ("feature-sso", "SSO", "BOOLEAN", "None", None),
            ("feature-api-calls", "API calls", "NUMBER", "Incremental", "call"),
            ("feature-seats", "Seats", "NUMBER", "Fluctuating", "seat"),
            ("feature-storage-gb", "Storage", "NUMBER", "Fluctuating", "GB"),
            ("feature-reports", "Reports", "NUMBER", "Incremental", "report"),
            ("feature-audit-log", "Audit log", "BOOLEAN", "None", None),
        ]
        for fid, name, ftype, meter, unit in feature_defs:
            self.features.append(
                w.put(
                    "FEATURES",
                    self._base("feat", at)
                    | {
                        "DISPLAY_NAME": name,
                        "FEATURE_ID": fid,
                        "FEATURE_UNITS": unit,
                        "FEATURE_UNITS_PLURAL": f"{unit}s" if unit else None,
                        "DESCRIPTION": f"{name} feature",
                        "FEATURE_TYPE": ftype,
                        "METER_TYPE": meter,
                        "ADDITIONAL_META_DATA": None,
                    },
                )
            )
        self.metered = [f for f in self.features if f["FEATURE_TYPE"] == "NUMBER"]

        plan_defs = [  # plan id, name, pricing type, base plan, monthly amount
            ("plan-free", "Free", "FREE", None, None),
            ("plan-starter", "Starter", "PAID", None, 29),
            ("plan-pro", "Pro", "PAID", "plan-starter", 99),
            ("plan-enterprise", "Enterprise", "CUSTOM", "plan-pro", 1500),
        ]
        for i, (plan_id, name, pricing, base, amount) in enumerate(plan_defs):
            product = products[0] if i < 3 else products[1]
            plan = w.put(
                "PLANS",
                self._base("plan", at)
                | {
                    "PLAN_ID": plan_id,
                    "BILLING_ID": f"prod_{self.rng.getrandbits(40):x}",
                    "BILLING_LINK_URL": "https://dashboard.stripe.com/products/x",
                    "DISPLAY_NAME": name,
                    "PRICING_TYPE": pricing,
                    "DESCRIPTION": f"The {name} plan",
                    "IS_LATEST": True,
                    "VERSION_NUMBER": 1,
                    "ADDITIONAL_META_DATA": None,
                    "PRODUCT_ID": product["PRODUCT_ID"],
                    "BASE_PLAN_ID": base,
                },
            )
            self.plans.append(plan)
            self._package_prices(plan["ID"], amount, i)
            self._package_entitlements(plan["ID"], i)

        addon_defs = [
            ("addon-extra-seats", "Extra seats", "PAID", 10),
            ("addon-storage", "Extra storage", "PAID", 20),
            ("addon-priority-support", "Priority support", "CUSTOM", 300),
            ("addon-beta-features", "Beta features", "FREE", None),
        ]
        for i, (addon_id, name, pricing, amount) in enumerate(addon_defs):
            addon = w.put(
                "ADDONS",
                self._base("addon", at)
                | {
                    "ADDON_ID": addon_id,
                    "BILLING_ID": f"prod_{self.rng.getrandbits(40):x}",
                    "BILLING_LINK_URL": None,
                    "DISPLAY_NAME": name,
                    "PRICING_TYPE": pricing,
                    "DESCRIPTION": f"{name} add-on",
                    "ENVIRONMENT_ID": self.env,
                    "PRODUCT_ID": products[0]["PRODUCT_ID"],
                    "IS_LATEST": True,
                    "VERSION_NUMBER": 1,
                    "ADDITIONAL_META_DATA": None,
                },
            )
            self.addons.append(addon)
            self._package_prices(addon["ID"], amount, 10 + i)
            self._package_entitlements(addon["ID"], 10 + i)

        coupon_defs = [
            ("coupon-welcome-20", "PERCENTAGE", 20, None, "ACTIVE"),
            ("coupon-50-off", "FIXED", 50, [{"amount": 50, "currency": "USD"}], "ACTIVE"),
            ("coupon-launch", "PERCENTAGE", 50, None, "ACTIVE"),
            ("coupon-eur-10", "FIXED", 10, [{"amount": 10, "currency": "EUR"}], "ARCHIVED"),
        ]
        for coupon_id, ctype, value, amounts, status in coupon_defs:
            self.coupons.append(
                w.put(
                    "COUPONS",
                    self._base("coupon", at)
                    | {
                        "COUPON_ID": coupon_id,
                        "NAME": coupon_id.replace("-", " ").title(),
                        "DESCRIPTION": None,
                        "BILLING_ID": f"coupon_{self.rng.getrandbits(32):x}",
                        "BILLING_LINK_URL": None,
                        "TYPE": ctype,
                        "DISCOUNT_VALUE": value,
                        "AMOUNTS_OFF": json.dumps(amounts) if amounts else None,
                        "PERCENT_OFF": value if ctype == "PERCENTAGE" else None,
                        "STATUS": status,
                        "ADDITIONAL_META_DATA": None,
                    },
                )
            )

    def _package_prices(self, package_id: str, amount: int | None, i: int) -> None:
        if amount is None:
            self.prices_by_package[package_id] = []
            return
        w, at = self.world, self.catalog_at
        currency = "EUR" if i == 1 else "USD"
        prices = []
        for period, factor in (("MONTHLY", 1), ("ANNUALLY", 10)):
            prices.append(
                w.put(
                    "PRICES",
                    self._base("price", at)
                    | {
                        "BILLING_PERIOD": period,
                        "BILLING_MODEL": "FLAT_FEE",
                        "BILLING_ID": f"price_{self.rng.getrandbits(40):x}",
                        "PRICE_AMOUNT": amount * factor,
                        "PRICE_CURRENCY": currency,
                        "BILLING_COUNTRY_CODE": "DE" if currency == "EUR" else "US",
                        "PACKAGE_ID": package_id,
                        "TIERS_MODE": None,
                        "TIERS": None,
                    },
                )
            )
        seats, api_calls = self.metered[1], self.metered[0]
        extra = [  # (billing model, feature, tiers mode)
            ("PER_UNIT", seats, None),
            ("USAGE_BASED", api_calls, "GRADUATED"),
            ("PER_UNIT", seats, "VOLUME_PER_UNIT"),
            ("USAGE_BASED", api_calls, "VOLUME"),
        ][i % 4]
        model, feature, tiers_mode = extra
        tiers = None
        if tiers_mode:
            tiers = json.dumps(
                [
                    {"upTo": 1000, "unitPriceAmount": 0.02, "unitPriceCurrency": currency},
                    {"upTo": 10000, "unitPriceAmount": 0.01, "unitPriceCurrency": currency},
                ]
            )
        prices.append(
            w.put(
                "PRICES",
                self._base("price", at)
                | {
                    "BILLING_PERIOD": "MONTHLY",
                    "BILLING_MODEL": model,
                    "BILLING_ID": f"price_{self.rng.getrandbits(40):x}",
                    "PRICE_AMOUNT": 5 if model == "PER_UNIT" else None,
                    "PRICE_CURRENCY": currency,
                    "BILLING_COUNTRY_CODE": None,
                    "FEATURE_ID": feature["FEATURE_ID"],
                    "MIN_UNIT_QUANTITY": 1 if model == "PER_UNIT" else None,
                    "PACKAGE_ID": package_id,
                    "MAX_UNIT_QUANTITY": 500 if model == "PER_UNIT" else None,
                    "TIERS_MODE": tiers_mode,
                    "TIERS": tiers,
                },
            )
        )
        self.prices_by_package[package_id] = prices

    def _package_entitlements(self, package_id: str, i: int) -> None:
        resets = _enum("PACKAGE_ENTITLEMENTS", "RESET_PERIOD")
        for j, feature in enumerate(self.features[: 3 + i % 4]):
            numeric = feature["FEATURE_TYPE"] == "NUMBER"
            unlimited = numeric and i == 3
            self.world.put(
                "PACKAGE_ENTITLEMENTS",
                self._base("pent", self.catalog_at)
                | {
                    "DESCRIPTION": None,
                    "FEATURE_ID": feature["FEATURE_ID"],
                    "PACKAGE_ID": package_id,
                    "USAGE_LIMIT": None
                    if unlimited or not numeric
                    else 100 * (1 + i % 4) * (j + 1),
                    "HAS_UNLIMITED_USAGE": unlimited,
                    "IS_CUSTOM": i == 3,
                    "RESET_PERIOD": resets[(i + j) % len(resets)] if numeric else None,
                },
            )

    # ---- customers -----------------------------------------------------------------------
    def add_customers(self, count: int, at: datetime) -> None:
        for _ in range(count):
            self._add_customer(at)

    def _add_customer(self, at: datetime) -> None:
        w, rng = self.world, self.rng
        n = self.customer_serial
        self.customer_serial += 1
        created = at - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
        method = _cover(("CARD", "BANK", None), n, rng)
        customer = w.put(
            "CUSTOMERS",
            self._base("cus", created)
            | {
                "CUSTOMER_ID": f"customer-{self.env[:4]}-{n:05d}",
                "EMAIL": f"billing+{n}@example-{n % 37}.com",
                "NAME": rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Zoë & Co"])
                + f" {n}",
                "BILLING_CURRENCY": rng.choice(["USD", "USD", "EUR"]),
                "BILLING_ID": f"cus_{rng.getrandbits(48):x}",
                "BILLING_LINK_URL": "https://dashboard.stripe.com/customers/x",
                "DEFAULT_PAYMENT_EXPIRATION_MONTH": rng.randint(1, 12)
                if method == "CARD"
                else None,
                "DEFAULT_PAYMENT_EXPIRATION_YEAR": rng.randint(2026, 2030)
                if method == "CARD"
                else None,
                "DEFAULT_PAYMENT_METHOD_ID": f"pm_{rng.getrandbits(40):x}" if method else None,
                "DEFAULT_PAYMENT_METHOD_LAST4_DIGITS": f"{rng.randint(0, 9999):04d}"
                if method
                else None,
                "DEFAULT_PAYMENT_METHOD_TYPE": method,
                "DELETED_AT": None,
                "HAS_ACTIVE_SUBSCRIPTION": True,
                "ADDITIONAL_META_DATA": json.dumps({"segment": rng.choice(["smb", "mid", "ent"])}),
                "COUPON_ID": self.coupons[0]["COUPON_ID"] if n % 11 == 0 else None,
            },
        )
        self.customers.append(customer)
        if n % 5 == 0:
            for r in range(1 + n % 2):
                self.resources.append(
                    w.put(
                        "CUSTOMER_RESOURCES",
                        {
                            "ENVIRONMENT_ID": self.env,
                            "RESOURCE_ID": f"site-{n:05d}-{r}",
                            "CUSTOMER_ID": customer["CUSTOMER_ID"],
                            "CREATED_AT": created,
                            "UPDATED_AT": created,
                        },
                    )
                )
        self._subscribe(customer, n, created)
        self._promotions(customer, n, created)

    def _subscribe(self, customer: dict, n: int, created: datetime) -> None:
        w, rng = self.world, self.rng
        plan = self.plans[n % len(self.plans)]
        statuses = _enum("SUBSCRIPTIONS", "STATUS")
        status = (
            _cover(statuses, n, rng)
            if n < 12
            else rng.choice(
                ("ACTIVE",) * 6
                + ("IN_TRIAL", "CANCELED", "EXPIRED", "PAYMENT_PENDING", "NOT_STARTED")
            )
        )
        start = created + timedelta(hours=1)
        period_start = start + timedelta(days=30 * ((self.start - start).days // 30))
        resource = next(
            (r for r in self.resources if r["CUSTOMER_ID"] == customer["CUSTOMER_ID"]), None
        )
        pricing = plan["PRICING_TYPE"]
        sub = w.put(
            "SUBSCRIPTIONS",
            self._base("sub", created)
            | {
                "SUBSCRIPTION_ID": f"subscription-{plan['PLAN_ID']}-{n:05d}",
                "START_DATE": start,
                "END_DATE": created + timedelta(days=20) if status == "EXPIRED" else None,
                "CANCELLATION_DATE": created + timedelta(days=10) if status == "CANCELED" else None,
                "TRIAL_END_DATE": start + timedelta(days=14) if status == "IN_TRIAL" else None,
                "BILLING_ID": f"sub_{rng.getrandbits(48):x}" if pricing != "FREE" else None,
                "OLD_BILLING_ID": f"sub_{rng.getrandbits(48):x}"
                if status in ("CANCELED", "EXPIRED")
                else None,
                "BILLING_LINK_URL": None,
                "STATUS": status,
                "RESOURCE_ID": resource["RESOURCE_ID"] if resource else None,
                "IS_CUSTOM_PRICE_SUBSCRIPTION": pricing == "CUSTOM",
                "CURRENT_BILLING_PERIOD_START": period_start,
                "CURRENT_BILLING_PERIOD_END": period_start + timedelta(days=30),
                "PRICING_TYPE": pricing,
                "ADDITIONAL_META_DATA": None,
                "PAYMENT_COLLECTION": _cover(_enum("SUBSCRIPTIONS", "PAYMENT_COLLECTION"), n, rng)
                if n < 8
                else "NOT_REQUIRED",
                "CUSTOMER_ID": customer["CUSTOMER_ID"],
                "PLAN_ID": plan["PLAN_ID"],
                "COUPON_ID": None,
            },
        )
        self.subscriptions.append(sub)
        annual = n % 4 == 0
        for price in self.prices_by_package[plan["ID"]]:
            if (
                price["BILLING_MODEL"] == "FLAT_FEE"
                and (price["BILLING_PERIOD"] == "ANNUALLY") != annual
            ):
                continue
            w.put(
                "SUBSCRIPTION_PRICES",
                self._base("sprice", created)
                | {
                    "USAGE_LIMIT": 1000 if price["BILLING_MODEL"] == "USAGE_BASED" else None,
                    "FEATURE_ID": price["FEATURE_ID"],
                    "BILLING_MODEL": price["BILLING_MODEL"],
                    "SUBSCRIPTION_ID": sub["SUBSCRIPTION_ID"],
                    "PRICE_ID": price["ID"],
                },
            )
        if pricing != "FREE" and n % 4 == 1:
            addon = self.addons[n % len(self.addons)]
            prices = self.prices_by_package[addon["ID"]]
            w.put(
                "SUBSCRIPTION_ADDONS",
                self._base("saddon", created)
                | {
                    "QUANTITY": 1 + n % 7,
                    "SUBSCRIPTION_ID": sub["SUBSCRIPTION_ID"],
                    "ADDON_ID": addon["ADDON_ID"],
                    "PRICE_ID": prices[0]["ID"] if prices else None,
                },
            )
        if n % 6 == 2:
            w.put(
                "SUBSCRIPTION_APPLIED_COUPONS",
                self._base("sac", created)
                | {
                    "DELETED_AT": None,
                    "SUBSCRIPTION_ID": sub["SUBSCRIPTION_ID"],
                    "COUPON_ID": self.coupons[n % 3]["COUPON_ID"],
                    "STATUS": "ACTIVE",
                },
            )
        for j, feature in enumerate(self.features):
            numeric = feature["FEATURE_TYPE"] == "NUMBER"
            resets = _enum("ENTITLEMENTS", "RESET_PERIOD")
            reset = resets[(n + j) % 4] if numeric else None
            w.put(
                "ENTITLEMENTS",
                self._base("ent", created)
                | {
                    "CUSTOMER_UUID": customer["ID"],
                    "CUSTOMER_ID": customer["CUSTOMER_ID"],
                    "RESOURCE_UUID": None,
                    "RESOURCE_ID": None,
                    "FEATURE_UUID": feature["ID"],
                    "FEATURE_ID": feature["FEATURE_ID"],
                    "IS_DELETED": False,
                    "CURRENT_USAGE": rng.randint(0, 120) if numeric else None,
                    "USAGE_LIMIT": None if not numeric or plan["PRICING_TYPE"] == "CUSTOM" else 100,
                    "HAS_UNLIMITED_USAGE": numeric and plan["PRICING_TYPE"] == "CUSTOM",
                    "USAGE_PERIOD_ANCHOR": start if reset else None,
                    "USAGE_PERIOD_START": period_start if reset else None,
                    "USAGE_PERIOD_END": period_start + timedelta(days=30) if reset else None,
                    "RESET_PERIOD": reset,
                    "RESET_PERIOD_MONTHLY_ACCORDING_TO": _cover(
                        _enum("ENTITLEMENTS", "RESET_PERIOD_MONTHLY_ACCORDING_TO"), n, rng
                    )
                    if reset == "MONTH"
                    else None,
                    "RESET_PERIOD_WEEKLY_ACCORDING_TO": _cover(
                        _enum("ENTITLEMENTS", "RESET_PERIOD_WEEKLY_ACCORDING_TO"), n // 4, rng
                    )
                    if reset == "WEEK"
                    else None,
                },
            )

    def _promotions(self, customer: dict, n: int, created: datetime) -> None:
        if n % 7 != 3:
            return
        k = n // 7
        period = _cover(_enum("PROMOTIONAL_ENTITLEMENTS", "PERIOD"), k, self.rng)
        feature = self.metered[k % len(self.metered)]
        start = created + timedelta(days=1)
        self.world.put(
            "PROMOTIONAL_ENTITLEMENTS",
            self._base("promo", created)
            | {
                "DESCRIPTION": "Promotional grant",
                "CUSTOMER_ID": customer["CUSTOMER_ID"],
                "FEATURE_ID": feature["FEATURE_ID"],
                "START_DATE": start,
                "END_DATE": None if period == "LIFETIME" else start + timedelta(days=30),
                "USAGE_LIMIT": None if k % 5 == 4 else 500,
                "HAS_UNLIMITED_USAGE": k % 5 == 4,
                "STATUS": _cover(("Active", "Paused"), k, self.rng) if k % 9 else "Active",
                "PERIOD": period,
                "RESET_PERIOD": _cover(
                    _enum("PROMOTIONAL_ENTITLEMENTS", "RESET_PERIOD"), k, self.rng
                ),
            },
        )

    # ---- activity between transfers -------------------------------------------------------
    def usage(self, at: datetime, events_per_customer: int) -> None:
        w, rng = self.world, self.rng
        names = ("api_call", "report_generated", "$usage.reported")
        resets = _enum("USAGE_MEASUREMENTS", "RESET_PERIOD")
        for i, customer in enumerate(self.customers):
            if customer["DELETED_AT"] is not None:
                continue
            for _ in range(rng.randint(0, 2 * events_per_customer)):
                ts = at - timedelta(seconds=rng.randint(60, 86_000))
                w.put(
                    "USAGE_EVENTS",
                    {
                        "ID": w.new_id("evt"),
                        "CUSTOMER_ID": customer["CUSTOMER_ID"],
                        "RESOURCE_ID": None,
                        "EVENT_NAME": rng.choice(names),
                        "CREATED_AT": ts + timedelta(seconds=2),
                        "TIMESTAMP": ts,
                        "DIMENSIONS": json.dumps(
                            {"region": rng.choice(["eu", "us"]), "tokens": rng.randint(1, 5000)}
                        ),
                        "IDEMPOTENCY_KEY": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "ENVIRONMENT_ID": self.env,
                    },
                )
            if i % 2 == 0:
                feature = self.metered[i % len(self.metered)]
                ts = at - timedelta(seconds=rng.randint(60, 86_000))
                reset = resets[(i // 2) % len(resets)]
                w.put(
                    "USAGE_MEASUREMENTS",
                    self._base("um", ts)
                    | {
                        "CUSTOMER_ID": customer["CUSTOMER_ID"],
                        "RESOURCE_ID": None,
                        "FEATURE_ID": feature["FEATURE_ID"],
                        "VALUE": rng.randint(1, 25),
                        "RESET_PERIOD": reset,
                        "PERIOD_START": ts.replace(hour=0, minute=0, second=0),
                        "PERIOD_END": ts.replace(hour=0, minute=0, second=0) + timedelta(days=1),
                    },
                )

    def changes(self, transfer: int, at: datetime) -> None:
        """What changed in Stigg before transfer `transfer` (2, 3, ...)."""
        w, rng = self.world, self.rng
        for i, customer in enumerate(self.customers):
            if i % 9 == transfer % 9:
                w.update(
                    "CUSTOMERS",
                    customer,
                    at - timedelta(minutes=30 + i),
                    NAME=customer["NAME"] + " Ltd",
                )
            if transfer == 2 and i % 20 == 7:  # archived
                w.update(
                    "CUSTOMERS",
                    customer,
                    at - timedelta(minutes=5),
                    DELETED_AT=at - timedelta(minutes=5),
                    HAS_ACTIVE_SUBSCRIPTION=False,
                )
        for i, sub in enumerate(self.subscriptions):
            if sub["STATUS"] == "IN_TRIAL" and i % 2 == transfer % 2:
                w.update(
                    "SUBSCRIPTIONS",
                    sub,
                    at - timedelta(minutes=40),
                    STATUS="ACTIVE",
                    TRIAL_END_DATE=at - timedelta(minutes=40),
                )
            elif sub["STATUS"] == "ACTIVE" and i % 15 == transfer:
                w.update(
                    "SUBSCRIPTIONS",
                    sub,
                    at - timedelta(minutes=50),
                    STATUS="CANCELED",
                    CANCELLATION_DATE=at - timedelta(minutes=50),
                )
        for ent in list(w.records["ENTITLEMENTS"].values()):
            if (
                ent["ENVIRONMENT_ID"] == self.env
                and ent["CURRENT_USAGE"] is not None
                and rng.random() < 0.3
            ):
                w.update(
                    "ENTITLEMENTS",
                    ent,
                    at - timedelta(minutes=rng.randint(1, 600)),
                    CURRENT_USAGE=ent["CURRENT_USAGE"] + rng.randint(1, 20),
                )
        if transfer == 2:
            self._new_versions(at)
            spelled = next(f for f in self.features if f["METER_TYPE"] == "Fluctuating")
            w.update(
                "FEATURES",
                spelled,
                at - timedelta(hours=2),
                METER_TYPE=_ENUM_SPELLINGS_OF_OTHER_API["Fluctuating"],
            )
            for applied in list(w.records["SUBSCRIPTION_APPLIED_COUPONS"].values())[:2]:
                w.update(
                    "SUBSCRIPTION_APPLIED_COUPONS",
                    applied,
                    at - timedelta(hours=1),
                    STATUS="REMOVED",
                    DELETED_AT=(at - timedelta(hours=1)).isoformat(),
                )
        if transfer == 3:
            w.update("COUPONS", self.coupons[2], at - timedelta(hours=3), STATUS="ARCHIVED")
            applied = list(w.records["SUBSCRIPTION_APPLIED_COUPONS"].values())
            if len(applied) > 2:
                w.update(
                    "SUBSCRIPTION_APPLIED_COUPONS",
                    applied[2],
                    at - timedelta(hours=1),
                    STATUS="EXPIRED",
                )
            for promo in list(w.records["PROMOTIONAL_ENTITLEMENTS"].values())[:2]:
                if promo["ENVIRONMENT_ID"] == self.env:
                    w.update(
                        "PROMOTIONAL_ENTITLEMENTS", promo, at - timedelta(hours=2), STATUS="Expired"
                    )
            promo = next(
                (
                    p
                    for p in w.records["PROMOTIONAL_ENTITLEMENTS"].values()
                    if p["ENVIRONMENT_ID"] == self.env and p["PERIOD"] == "ONE_MONTH"
                ),
                None,
            )
            if promo:
                w.update(
                    "PROMOTIONAL_ENTITLEMENTS",
                    promo,
                    at - timedelta(hours=1),
                    PERIOD=_ENUM_SPELLINGS_OF_OTHER_API["ONE_MONTH"],
                )

    def _new_versions(self, at: datetime) -> None:
        """The Pro plan and the Extra seats add-on get a second version."""
        w = self.world
        for table, packages, index in (("PLANS", self.plans, 2), ("ADDONS", self.addons, 0)):
            old = packages[index]
            new = w.put(
                table,
                dict(old)
                | {
                    "ID": w.new_id(table[:4].lower()),
                    "CREATED_AT": at,
                    "UPDATED_AT": at,
                    "VERSION_NUMBER": 2,
                    "IS_LATEST": True,
                },
            )
            w.update(table, old, at, IS_LATEST=False)
            packages[index] = new
            self._package_prices(new["ID"], 119 if table == "PLANS" else 12, index)
            self._package_entitlements(new["ID"], index)

    def _base(self, prefix: str, at: datetime) -> dict:
        return {
            "ID": self.world.new_id(prefix),
            "CREATED_AT": at,
            "UPDATED_AT": at,
            "ENVIRONMENT_ID": self.env,
        }


# ---- writing files -----------------------------------------------------------------------
def _arrow_type(table: Table, column: str) -> pa.DataType:
    doc_type = table.column(column).doc_type
    if doc_type == TIMESTAMP_TZ:
        return pa.timestamp("us", tz="UTC")
    if doc_type == BOOLEAN:
        return pa.bool_()
    if doc_type == NUMBER:
        whole = table.type_key(table.column(column)) == WHOLE_NUMBER
        return pa.int64() if whole else pa.float64()
    return pa.string()


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, Decimal)):
        return format(value, "f").rstrip("0").rstrip(".") if value % 1 else str(int(value))
    return str(value)


@dataclass(frozen=True)
class _FileVariant:
    format: str = "parquet"  # parquet | csv | ndjson.gz
    lower_case_names: bool = False
    timestamps_as_text: bool = False
    columns: tuple[str, ...] | None = None


def _write(path: Path, table: Table, rows: list[dict], variant: _FileVariant) -> None:
    columns = list(variant.columns or table.column_names)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [c.lower() if variant.lower_case_names else c for c in columns]
    if variant.format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_text(r.get(c)) or "" for c in columns] for r in rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif variant.format == "ndjson.gz":
        lines = "".join(
            json.dumps({n: _text(r.get(c)) for n, c in zip(names, columns, strict=True)}) + "\n"
            for r in rows
        )
        with (
            path.open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
        ):
            gz.write(lines.encode("utf-8"))
    else:
        fields, arrays = [], []
        for name, column in zip(names, columns, strict=True):
            if column in table.column_names and not (
                variant.timestamps_as_text and table.column(column).doc_type == TIMESTAMP_TZ
            ):
                typ = _arrow_type(table, column)
                values = [r.get(column) for r in rows]
            else:
                typ = pa.string()
                values = [_text(r.get(column)) for r in rows]
            fields.append(pa.field(name, typ))
            arrays.append(pa.array(values, type=typ))
        pq.write_table(
            pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path, compression="zstd"
        )


def _variant(table: Table, transfer: int, folder: str) -> _FileVariant:
    """The file shapes that real exports show, spread over the transfers."""
    if table.name == "COUPONS" and transfer == 2:
        return _FileVariant(format="csv")
    if table.name == "USAGE_MEASUREMENTS" and transfer == 3:
        return _FileVariant(format="ndjson.gz")
    if table.name == "SUBSCRIPTIONS" and transfer == 3:
        return _FileVariant(lower_case_names=True)
    if table.name == "SUBSCRIPTIONS" and transfer == 2:
        return _FileVariant(timestamps_as_text=True)
    if table.name == "CUSTOMERS":
        columns = [c for c in table.column_names if not (transfer == 1 and c == "COUPON_ID")]
        if transfer >= 3:
            columns.append(ADDED_LATER_COLUMN)
        return _FileVariant(columns=tuple(columns))
    if table.name == "USAGE_EVENTS" and folder != "usage_events":
        return _FileVariant(columns=tuple(c for c in table.column_names if c != "ENVIRONMENT_ID"))
    return _FileVariant()


def _files_of_transfer(
    rows_by_table: dict[str, list[dict]], environments: list[str], transfer: int
) -> Iterator[tuple[str, Table, list[dict], _FileVariant]]:
    for table in TABLES:
        rows = rows_by_table[table.name]
        if not rows:
            continue
        if table.name == "USAGE_EVENTS":
            # The first environment's events share one folder; the others have their own.
            groups = {"usage_events": [r for r in rows if r["ENVIRONMENT_ID"] == environments[0]]}
            for env in environments[1:]:
                groups[f"usage_events_{env}"] = [r for r in rows if r["ENVIRONMENT_ID"] == env]
        else:
            groups = {table.model: rows}
        for folder, folder_rows in groups.items():
            if folder_rows:
                yield folder, table, folder_rows, _variant(table, transfer, folder)


def generate_export(out: Path, config: ExportConfig = ExportConfig()) -> GenerationSummary:
    """Write the export under `out` (which must not hold another export)."""
    rng = random.Random(config.seed)
    world = _World(rng)
    env_ids = [
        str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(config.environments)
    ]
    per_env = [config.customers // config.environments] * config.environments
    per_env[0] += config.customers - sum(per_env)
    # Transfer 1 holds roughly 70% of the customers; the rest sign up over the later transfers.
    environments = [
        _Environment(world, env, n, FIRST_TRANSFER_AT)
        for env, n in zip(env_ids, per_env, strict=True)
    ]
    summary = GenerationSummary()
    previous: dict[str, list[dict]] = {}
    for transfer in range(1, config.transfers + 1):
        at = FIRST_TRANSFER_AT + timedelta(days=transfer - 1, minutes=7 * transfer)
        for env in environments:
            if transfer == 1:
                env.build_catalog()
                env.add_customers(round(env.customer_count * 0.7), at - timedelta(hours=2))
            else:
                remaining = env.customer_count - env.customer_serial
                later = config.transfers - transfer + 1
                env.add_customers(remaining // later, at - timedelta(hours=3))
                env.changes(transfer, at)
            env.usage(at, config.events_per_customer)
        rows = world.take_transfer()
        # The transfer window looks back a few minutes: some of the previous rows come again.
        for name, prior in previous.items():
            if name not in ("USAGE_EVENTS", "USAGE_MEASUREMENTS") or transfer == 2:
                rows[name].extend(dict(r) for r in prior[: max(1, len(prior) // 20)])
        previous = {k: v for k, v in rows.items() if v}
        stamp = at.strftime("%Y%m%d%H%M%S")
        for folder, table, folder_rows, variant in _files_of_transfer(rows, env_ids, transfer):
            parts = 2 if len(folder_rows) > 2000 else 1
            if ADDED_LATER_COLUMN in (variant.columns or ()):
                folder_rows = [
                    r | {ADDED_LATER_COLUMN: f"crm-{r['CUSTOMER_ID']}"} for r in folder_rows
                ]
            for part in range(parts):
                chunk = folder_rows[part::parts]
                ext = {"parquet": "parquet", "csv": "csv", "ndjson.gz": "ndjson.gz"}[variant.format]
                path = out / folder / f"dt={at.date().isoformat()}" / f"{part:04d}_{stamp}.{ext}"
                _write(path, table, chunk, variant)
                summary.files += 1
                summary.rows += len(chunk)
                summary.rows_by_model[table.model] = summary.rows_by_model.get(
                    table.model, 0
                ) + len(chunk)
    return summary
