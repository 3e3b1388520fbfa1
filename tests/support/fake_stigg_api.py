"""A fake of Stigg's GraphQL API, served over real HTTP on 127.0.0.1, for the API source's tests.

- It serves the project's SDL (orchestration/runtime/sources/api/schema.graphql) with
  graphql-core: every document it receives is parsed and validated against it, and a document
  that does not validate gets HTTP 400 (and is kept in `invalid_documents`).
- Lists page as nestjs-query does: `filter` (eq, neq, gt, gte, lt, lte, in, is, isNot, and, or),
  `sorting` on several fields, cursor paging with `first` capped at `page_cap`.
- `X-API-KEY` must be one of `keys` (key -> environment): 401 otherwise; `denied` holds
  (key, operation) pairs that get 403, as a scoped key does.
- `faults` is a queue the test fills: each request takes the first fault whose operation
  matches (or any): "429", "500", "graphql_error" (HTTP 200 with `errors`), "slow" (sleeps
  `seconds` before answering), "drop" (half the body, then the connection closes).

It answers from `records`: environment -> documented table -> rows with the doc's column names
and typed values (what stigg.<TABLE> holds). The API's shape is written here from
shared/stigg-api.md, independently of the source's column map (orchestration/spec/api.py).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import graphql

from orchestration.runtime.sources.api.queries import SCHEMA_PATH
from tests.support.loopback import LoopbackHttp

# Where the API names a documented column otherwise than its camelCase (shared/stigg-api.md).
NESTED_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "CUSTOMERS": {"COUPON_ID": ("coupon", "refId")},
    "CUSTOMER_RESOURCES": {"CUSTOMER_ID": ("customer", "customerId")},
    "SUBSCRIPTIONS": {
        "CUSTOMER_ID": ("customer", "customerId"),
        "PLAN_ID": ("plan", "refId"),
        "COUPON_ID": ("coupon", "refId"),
    },
    "SUBSCRIPTION_PRICES": {"PRICE_ID": ("price", "id")},
    "SUBSCRIPTION_ADDONS": {"PRICE_ID": ("price", "id")},
    "PLANS": {"BASE_PLAN_ID": ("basePlan", "refId")},
    "PRICES": {"PRICE_AMOUNT": ("price", "amount"), "PRICE_CURRENCY": ("price", "currency")},
    "PROMOTIONAL_ENTITLEMENTS": {"CUSTOMER_ID": ("customer", "customerId")},
    "USAGE_MEASUREMENTS": {
        "CUSTOMER_ID": ("customer", "customerId"),
        "FEATURE_ID": ("feature", "refId"),
    },
    "ENTITLEMENTS": {
        "FEATURE_UUID": ("feature", "id"),
        "FEATURE_ID": ("feature", "refId"),
        "RESET_PERIOD_MONTHLY_ACCORDING_TO": ("resetPeriodConfiguration", "monthlyAccordingTo"),
        "RESET_PERIOD_WEEKLY_ACCORDING_TO": ("resetPeriodConfiguration", "weeklyAccordingTo"),
    },
}
REF_IDS = {
    "PRODUCTS": "PRODUCT_ID",
    "PLANS": "PLAN_ID",
    "ADDONS": "ADDON_ID",
    "FEATURES": "FEATURE_ID",
    "COUPONS": "COUPON_ID",
    "SUBSCRIPTION_APPLIED_COUPONS": "COUPON_ID",  # a subscription's coupon: its refId
}
# An entitlement's resetPeriodConfiguration is a union: the member type of each field.
RESET_PERIOD_MEMBERS = {
    "monthlyAccordingTo": "MonthlyResetPeriodConfig",
    "weeklyAccordingTo": "WeeklyResetPeriodConfig",
}
JSON_TEXT = {"ADDITIONAL_META_DATA", "AMOUNTS_OFF", "TIERS"}
LIST_COLUMNS = {"AMOUNTS_OFF", "TIERS"}
LISTS = {
    "customers": "CUSTOMERS",
    "customerResources": "CUSTOMER_RESOURCES",
    "subscriptions": "SUBSCRIPTIONS",
    "products": "PRODUCTS",
    "plans": "PLANS",
    "addons": "ADDONS",
    "packageEntitlements": "PACKAGE_ENTITLEMENTS",
    "promotionalEntitlements": "PROMOTIONAL_ENTITLEMENTS",
    "features": "FEATURES",
    "usageMeasurements": "USAGE_MEASUREMENTS",
    "coupons": "COUPONS",
}


def camel(column: str) -> str:
    head, *rest = column.lower().split("_")
    return head + "".join(p.capitalize() for p in rest)


def api_value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if column in JSON_TEXT and isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        if column in LIST_COLUMNS and not isinstance(parsed, list):
            return None  # the API's type is a list: a value that is not one cannot be served
        if not isinstance(parsed, dict | list):
            return value
        if column == "TIERS":
            return [
                {
                    "upTo": t.get("upTo"),
                    "unitPrice": {
                        "amount": t.get("unitPriceAmount"),
                        "currency": t.get("unitPriceCurrency"),
                    },
                }
                for t in parsed
            ]
        return parsed
    return value


def node_of(table: str, row: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for column, value in row.items():
        value = api_value(column, value)
        if column in NESTED_FIELDS.get(table, {}):
            outer, inner = NESTED_FIELDS[table][column]
            if value is not None or outer not in node:
                node.setdefault(outer, {})
                node[outer][inner] = value
        elif REF_IDS.get(table) == column:
            node["refId"] = value
        elif table == "ENTITLEMENTS" and column == "UPDATED_AT":
            node["entitlementUpdatedAt"] = value
        else:
            node[camel(column)] = value
    for outer, _inner in NESTED_FIELDS.get(table, {}).values():
        if isinstance(node.get(outer), dict) and all(v is None for v in node[outer].values()):
            node[outer] = None
    if table == "ENTITLEMENTS" and node.get("resetPeriodConfiguration"):
        [(name, value)] = [(k, v) for k, v in node["resetPeriodConfiguration"].items() if v]
        node["resetPeriodConfiguration"] = {"__typename": RESET_PERIOD_MEMBERS[name], name: value}
    return node


@dataclass
class Fault:
    kind: str  # 429 | 500 | graphql_error | slow | drop
    operation: str | None = None
    seconds: float = 0.0
    environment: str | None = None  # only for this environment's key


@dataclass
class FakeStiggApi(LoopbackHttp):
    keys: dict[str, str]  # key -> environment id
    records: dict[str, dict[str, list[dict]]]  # environment -> TABLE -> rows
    page_cap: int = 50
    denied: set[tuple[str, str]] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)  # (env, op, variables)
    invalid_documents: list[str] = field(default_factory=list)
    seen_keys: list[str] = field(default_factory=list)
    url_path = "/graphql"

    def __post_init__(self) -> None:
        self.schema = graphql.build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
        self._lock = threading.Lock()
        self._nodes: dict[tuple, object] = {}

    # --- the server -------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload, fault = fake.answer(self.headers.get("X-API-KEY"), body)
                data = json.dumps(payload).encode()
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.seconds)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault is not None and fault.kind == "drop":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.close()
                    return
                self.wfile.write(data)

        return Handler

    # --- one request ------------------------------------------------------------------------

    def _take_fault(self, operation: str, environment: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.operation in (None, operation) and fault.environment in (
                    None,
                    environment,
                ):
                    return self.faults.pop(i)
        return None

    def answer(self, key: str | None, body: dict) -> tuple[int, dict, Fault | None]:
        operation = body.get("operationName") or ""
        with self._lock:
            if key:
                self.seen_keys.append(key)
        if key not in self.keys:
            return 401, _error("Unauthorized: invalid API key", "UNAUTHENTICATED"), None
        if (key, operation) in self.denied:
            return (
                403,
                _error(f"Forbidden: the key has no access to {operation}", "FORBIDDEN"),
                None,
            )
        try:
            document = graphql.parse(body.get("query") or "")
        except graphql.GraphQLError as exc:
            self.invalid_documents.append(str(exc))
            return 400, {"errors": [{"message": str(exc)}]}, None
        errors = graphql.validate(self.schema, document)
        if errors:
            self.invalid_documents.extend(e.message for e in errors)
            return 400, {"errors": [{"message": e.message} for e in errors]}, None
        environment = self.keys[key]
        variables = body.get("variables") or {}
        with self._lock:
            self.requests.append((environment, operation, variables))
        fault = self._take_fault(operation, environment)
        if fault is not None and fault.kind == "429":
            return 429, _error("Too many requests", "TOO_MANY_REQUESTS"), fault
        if fault is not None and fault.kind == "500":
            return 500, _error("Internal server error", "INTERNAL_SERVER_ERROR"), fault
        if fault is not None and fault.kind == "graphql_error":
            return (
                200,
                {"data": None, **_error("Temporary failure", "INTERNAL_SERVER_ERROR")},
                fault,
            )
        result = graphql.execute(
            self.schema,
            document,
            root_value=_Root(self, environment),
            variable_values=variables,
            operation_name=operation or None,
        )
        payload: dict = {"data": result.data}
        if result.errors:
            payload["errors"] = [{"message": e.message} for e in result.errors]
        return 200, payload, fault

    # --- the records as the API shows them ------------------------------------------------

    def nodes(self, environment: str, root: str) -> list[dict]:
        """The nodes of a list, made once per `records` (a test replaces it to change Stigg)."""
        key = (id(self.records), environment, root)
        with self._lock:
            if key not in self._nodes:
                self._nodes[key] = self._make_nodes(environment, root)
            return self._nodes[key]

    def _make_nodes(self, environment: str, root: str) -> list[dict]:
        tables = self.records.get(environment, {})
        table = LISTS[root]
        nodes = [node_of(table, row) for row in tables.get(table, [])]
        if table == "SUBSCRIPTIONS":
            for nested, child in (
                ("prices", "SUBSCRIPTION_PRICES"),
                ("addons", "SUBSCRIPTION_ADDONS"),
                ("coupons", "SUBSCRIPTION_APPLIED_COUPONS"),
            ):
                by_parent = _grouped(tables.get(child, []), "SUBSCRIPTION_ID")
                for node in nodes:
                    node[nested] = [
                        node_of(child, r) for r in by_parent.get(node["subscriptionId"], [])
                    ]
        if table in ("PLANS", "ADDONS"):
            by_package = _grouped(tables.get("PRICES", []), "PACKAGE_ID")
            for node in nodes:
                node["prices"] = [node_of("PRICES", r) for r in by_package.get(node["id"], [])]
                if table == "PLANS":
                    node["overagePrices"] = []
        return nodes

    def entitlements(self, environment: str, customer_id: str, resource_id: str | None):
        key = (id(self.records), environment, "entitlements")
        with self._lock:
            if key not in self._nodes:
                rows = self.records.get(environment, {}).get("ENTITLEMENTS", [])
                self._nodes[key] = _grouped(
                    [r for r in rows if not r.get("IS_DELETED")], "CUSTOMER_ID", "RESOURCE_ID"
                )
            found = self._nodes[key].get((customer_id, resource_id), [])
        return [node_of("ENTITLEMENTS", r) for r in found]


def _grouped(rows: list[dict], *columns: str) -> dict:
    groups: dict = {}
    for row in rows:
        key = row[columns[0]] if len(columns) == 1 else tuple(row.get(c) for c in columns)
        groups.setdefault(key, []).append(row)
    return groups


def _error(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class _Root:
    def __init__(self, fake: FakeStiggApi, environment: str) -> None:
        self._fake = fake
        self._environment = environment

    def __getattr__(self, root: str):
        if root not in LISTS:
            raise AttributeError(root)

        def resolve(info: Any, filter=None, paging=None, sorting=None) -> dict:
            nodes = [n for n in self._fake.nodes(self._environment, root) if _matches(n, filter)]
            for sort in reversed(sorting or []):
                nodes.sort(
                    key=lambda n, f=sort["field"]: (n.get(f) is None, n.get(f) or ""),
                    reverse=sort["direction"] == "DESC",
                )
            first = min((paging or {}).get("first") or 10, self._fake.page_cap)
            after = (paging or {}).get("after")
            start = int(base64.b64decode(after).decode().split(":")[1]) + 1 if after else 0
            page = nodes[start : start + first]
            edges = [
                {"cursor": base64.b64encode(f"cursor:{start + i}".encode()).decode(), "node": n}
                for i, n in enumerate(page)
            ]
            return {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": start + first < len(nodes),
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
                "totalCount": len(nodes),
            }

        return resolve

    def entitlements(self, info: Any, query: dict) -> list[dict]:
        return self._fake.entitlements(
            self._environment, query["customerId"], query.get("resourceId")
        )


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _matches(node: dict, condition: dict | None) -> bool:
    for name, test in (condition or {}).items():
        if name == "and":
            if not all(_matches(node, c) for c in test):
                return False
            continue
        if name == "or":
            if not any(_matches(node, c) for c in test):
                return False
            continue
        value = _comparable(node.get(name))
        for op, operand in test.items():
            if not _compare(op, value, operand):
                return False
    return True


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op in ("is", "isNot"):
        return (
            (value is None) == (operand is None)
            if op == "is"
            else (value is None) != (operand is None)
        )
    if op == "in":
        return value in [_comparable(o) for o in operand]
    operand = _comparable(operand)
    if op == "eq":
        return value == operand
    if op == "neq":
        return value != operand
    if value is None:
        return False
    return {"gt": value > operand, "gte": value >= operand, "lt": value < operand,
            "lte": value <= operand}[op]  # fmt: skip
