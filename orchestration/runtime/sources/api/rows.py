"""A node of Stigg's API as a row of the export, by the column map (spec/api.py): every
documented column, as the text that a raw column holds.

A row is made in steps. `row_of` reads the node (and the record it came nested in, or the
customer it was asked for); the columns that only the pull can fill are None there. Change
detection (changes.py) then calls `fill_keys`, for the keys that the pull makes and the record's
content includes (an entitlement's id), and, for a row that it writes, `fill_pull_rules`, for
the times and flags that the pull says and the API does not (not part of the content).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from orchestration.spec.api import (
    ApiModel,
    ColumnSource,
    Derived,
    Field,
    FromCustomer,
    FromParent,
    JsonList,
    Rule,
)

Row = dict[str, str | None]


# --- coercion ---------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_text(value: Any) -> str | None:
    """A GraphQL value as the text a raw column holds: JSON text for objects and lists, `true` /
    `false`, and numbers without a trailing `.0` (a whole NUMBER casts from `12`, not `12.0`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(_whole_numbers(value))
    return str(value)


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return value


def _at(node: dict | None, path: str) -> Any:
    """The value at a dotted path (`coupon.refId`); None where any step is missing."""
    value: Any = node
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# --- a node as a row --------------------------------------------------------------------------


def row_of(
    api_model: ApiModel, node: dict, parent: dict | None = None, customer: dict | None = None
) -> Row:
    """A node as the export's row: every documented column, as text; the columns that the pull
    fills are None here (`fill_keys`, `fill_pull_rules`)."""
    return {
        column: _value(source, node, parent, customer)
        for column, source in api_model.sources.items()
    }


def _value(
    source: ColumnSource, node: dict, parent: dict | None, customer: dict | None
) -> str | None:
    match source:
        case Field(path=path):
            return as_text(_at(node, path))
        case JsonList(field=name, items=items):
            objects = node.get(name)
            if objects is None:
                return None
            return as_text([{key: _at(o, path) for key, path in items.items()} for o in objects])
        case FromParent(field=name):
            return as_text(_at(parent, name))
        case FromCustomer(field=name):
            return as_text((customer or {}).get(name))
        case Derived(rule=Rule.CUSTOM_PRICING):
            pricing_type = node.get("pricingType")
            return None if pricing_type is None else as_text(pricing_type == "CUSTOM")
    return None  # Absent, and the rules that the pull fills


# --- what the pull fills ----------------------------------------------------------------------


def entitlement_key(row: Row) -> str:
    identity = "|".join(
        row.get(c) or "" for c in ("ENVIRONMENT_ID", "CUSTOMER_ID", "RESOURCE_ID", "FEATURE_ID")
    )
    return "api-ent-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def fill_keys(api_model: ApiModel, row: Row) -> None:
    """The keys that the pull makes, from the row's other columns: part of its content."""
    for column, source in api_model.sources.items():
        if source == Derived(Rule.ENTITLEMENT_KEY):
            row[column] = entitlement_key(row)


def fill_pull_rules(api_model: ApiModel, row: Row, first_seen: datetime, now: datetime) -> None:
    """The columns that the pull says and the API does not, where the row has no value: when
    the record was first listed (`first_seen`), when it was seen in this state (`now`: it is
    written because it changed), and that a listed entitlement is not deleted."""
    for column, source in api_model.sources.items():
        if row[column] is not None:
            continue
        rule = _rule_of(source)
        if rule is Rule.FIRST_SEEN:
            row[column] = iso(first_seen)
        elif rule is Rule.STATE_SEEN:
            row[column] = iso(now)
        elif rule is Rule.NOT_DELETED:
            row[column] = "false"


def _rule_of(source: ColumnSource) -> Rule | None:
    """The rule that fills the column: a derived column's, or a field's when it has no value."""
    match source:
        case Derived(rule=rule) | Field(or_else=rule):
            return rule
    return None
