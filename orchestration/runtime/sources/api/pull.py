"""A pull of Stigg's API, written as a transfer of the file export.

Each pull writes, per model and environment, one Parquet file in the export's own layout
(`<model>/dt=<day>/api-<environment>-<run>_<YYYYMMDDhhmmss>.parquet`, every column as text, as
the API gave it) into `Settings.api_export_dir`, and the export's landing lands it: raw, lineage,
the manifest, the skip rule and both engines' readers are the export's.

- A record becomes a row only when its content changed since the state of the published
  warehouse (meta.api_records): new, or different in any field that the API gives. So an
  incremental pull's overlap writes nothing again, and a pull with nothing changed writes no
  file, lands nothing, and dbt is skipped.
- Lists with an incremental field are asked from the published watermark minus
  STIGG_API_OVERLAP_MINUTES, sorted by that field and the list's tie-break (its model's
  `tie_break`); the others are pulled in full, and a record that a full pull no longer lists is
  counted as gone (its rows stay as last seen).
- A pull is redone, never resumed: before it asks, the files that no published manifest names
  (a killed or failed run's) are deleted, and the run's working copy starts from the published
  warehouse (runtime/writer.py), so no record is lost or written twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.runtime.sources.api import queries
from orchestration.runtime.sources.api.client import StiggApi, StiggApiError
from orchestration.runtime.sources.api.manifest import (
    Published,
    RecordState,
    StateKey,
    read_published,
)
from orchestration.settings import Settings
from orchestration.spec.api import (
    ABSENT,
    AMOUNTS_OFF,
    API_MODELS,
    API_MODELS_BY_MODEL,
    CUSTOM_PRICING,
    DERIVED,
    ENTITLEMENT_KEY,
    FIRST_SEEN,
    NESTED,
    NOT_DELETED,
    OR_ELSE,
    PARENT,
    STATE_SEEN,
    TIERS,
    ApiModel,
)

_KEY_SEPARATOR = "\x1f"


class ApiSourceError(RuntimeError):
    """The API source cannot pull: a configuration it cannot use, or a request that failed."""


@dataclass
class ModelPull:
    """What one pull of one model in one environment did (a row of meta.api_pulls)."""

    model: str
    environment_id: str
    mode: str
    watermark_from: datetime | None = None
    watermark: datetime | None = None
    pages: int = 0
    records_listed: int = 0
    records_changed: int = 0
    records_gone: int = 0
    file: str | None = None


@dataclass
class PullResult:
    run_id: str
    pulled_at: datetime
    pulls: list[ModelPull] = field(default_factory=list)
    published: Published = field(default_factory=Published)
    state: dict[StateKey, RecordState] = field(default_factory=dict)
    requests: int = 0

    def manifest_rows(self) -> list[dict]:
        """meta.api_pulls as it should be after this run: the published rows and this run's."""
        rows = list(self.published.pulls)
        for p in self.pulls:
            rows.append(
                {
                    "run_id": self.run_id,
                    "pulled_at": self.pulled_at,
                    **{k: v for k, v in vars(p).items()},
                    "status": "pulled",
                }
            )
        return rows

    def by_model(self) -> dict[str, dict[str, int]]:
        """Per model, summed over environments: pages, listed, changed, gone."""
        totals: dict[str, dict[str, int]] = {}
        for p in self.pulls:
            t = totals.setdefault(
                p.model, {"pages": 0, "listed": 0, "changed": 0, "gone": 0, "full": 0}
            )
            t["pages"] += p.pages
            t["listed"] += p.records_listed
            t["changed"] += p.records_changed
            t["gone"] += p.records_gone
            t["full"] = int(p.mode in ("full", "nested in a full list", "per customer"))
        return totals


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
    value: Any = node
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _tiers(tiers: list[dict] | None) -> str | None:
    if tiers is None:
        return None
    return as_text(
        [
            {
                "upTo": t.get("upTo"),
                "unitPriceAmount": _at(t, "unitPrice.amount"),
                "unitPriceCurrency": _at(t, "unitPrice.currency"),
            }
            for t in tiers
        ]
    )


def _ascending(fields: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"field": f, "direction": "ASC"} for f in fields]


def row_of(
    api_model: ApiModel, node: dict, parent: dict | None = None, customer: dict | None = None
) -> dict[str, str | None]:
    """A node as the export's row: every documented column, as text; the rules' columns are
    None here and filled by `_settle`."""
    row: dict[str, str | None] = {}
    for column in api_model.table.column_names:
        source = api_model.source_of(column).split(OR_ELSE)[0]
        if source == TIERS:
            row[column] = _tiers(node.get("tiers"))
        elif source == AMOUNTS_OFF:
            row[column] = as_text(node.get("amountsOff"))
        elif source == CUSTOM_PRICING:
            pricing_type = node.get("pricingType")
            row[column] = None if pricing_type is None else as_text(pricing_type == "CUSTOM")
        elif source.startswith(f"{PARENT}."):
            row[column] = as_text(_at(parent, source.removeprefix(f"{PARENT}.")))
        elif source.startswith("$customer."):
            row[column] = as_text((customer or {}).get(source.removeprefix("$customer.")))
        elif source in (*DERIVED, ABSENT):
            row[column] = None
        else:
            row[column] = as_text(_at(node, source))
    return row


def entitlement_key(row: dict[str, str | None]) -> str:
    identity = "|".join(
        row.get(c) or "" for c in ("ENVIRONMENT_ID", "CUSTOMER_ID", "RESOURCE_ID", "FEATURE_ID")
    )
    return "api-ent-" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def content_hash(row: dict[str, str | None]) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()


class _Pull:
    """One run's pull, over every key."""

    def __init__(self, settings: Settings, run_id: str, log: Callable[[str], None]) -> None:
        self.settings = settings
        self.api = settings.api
        self.run_id = run_id
        self.log = log
        self.pulled_at = datetime.now(UTC).replace(microsecond=0)
        self.folder = settings.api_export_dir
        self.published = read_published(settings.warehouse_path)
        self.state: dict[StateKey, RecordState] = dict(self.published.state)
        self.result = PullResult(run_id, self.pulled_at, published=self.published)

    # --- the folder -------------------------------------------------------------------------

    def discard_unpublished_files(self) -> int:
        """Delete the pull files that no published manifest names: a killed or failed run's."""
        self.folder.mkdir(parents=True, exist_ok=True)
        removed = 0
        for path in sorted(self.folder.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(self.folder).as_posix()
            if relative not in self.published.landed_paths:
                path.unlink()
                removed += 1
        for directory in sorted(self.folder.rglob("*"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        return removed

    def write(self, model: str, environment_id: str, rows: list[dict]) -> str:
        """The rows as one export file; written beside, then renamed into place."""
        columns = API_MODELS_BY_MODEL[model].table.column_names
        table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
        slug = re.sub(r"[^A-Za-z0-9-]", "-", environment_id)
        name = f"api-{slug}-{self.run_id[:8]}_{self.pulled_at:%Y%m%d%H%M%S}.parquet"
        relative = f"{model}/dt={self.pulled_at:%Y-%m-%d}/{name}"
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return relative

    # --- the keys ---------------------------------------------------------------------------

    def run(self) -> PullResult:
        if not self.api.keys:
            raise ApiSourceError(
                "STIGG_SOURCE=api needs the API's server keys: set STIGG_API_KEYS "
                "(comma-separated, each KEY or ENV_ID=KEY) or STIGG_API_KEYS_FILE"
            )
        removed = self.discard_unpublished_files()
        if removed:
            self.log(
                f"Deleted {removed} pulled file(s) that no published warehouse names (a run that "
                "did not publish): this pull asks again from the published watermark"
            )
        seen: dict[str, str] = {}
        for key in self.api.keys:
            client = StiggApi(self.api, key)
            environment_id = key.environment_id or self._probe_environment(client)
            if environment_id is None:
                self.log(f"{key.label} lists no records: nothing to pull with it")
                continue
            if environment_id in seen:
                raise ApiSourceError(
                    f"{key.label} and {seen[environment_id]} both read environment "
                    f"{environment_id}: give each environment one key"
                )
            seen[environment_id] = key.label
            client.key = replace(key, environment_id=environment_id)
            self.log(
                f"Pulling environment {environment_id} ({key.label}, from {self.api.keys_origin})"
            )
            self._pull_environment(client, environment_id)
            self.result.requests += client.requests
        self.result.state = self.state
        return self.result

    def _probe_environment(self, client: StiggApi) -> str | None:
        data = client.query("EnvironmentProbe", queries.ENVIRONMENT_PROBE_QUERY, {})
        for listing in data.values():
            for edge in listing["edges"]:
                if edge["node"].get("environmentId"):
                    return edge["node"]["environmentId"]
        return None

    # --- one environment --------------------------------------------------------------------

    def _pull_environment(self, client: StiggApi, environment_id: str) -> None:
        rows: dict[str, list[dict]] = {m.model: [] for m in API_MODELS}
        pulls: dict[str, ModelPull] = {}
        resources: list[dict] = []
        for api_model in API_MODELS:
            if api_model.query is None:
                continue
            pull = self._pull_list(client, environment_id, api_model, rows)
            pulls[api_model.model] = pull
            for child in {c for _, _, c in NESTED.get(api_model.model, ())}:
                mode = "nested in a full list" if pull.mode == "full" else "nested"
                pulls[child] = ModelPull(child, environment_id, mode, pages=pull.pages)
            if api_model.model == "customer_resources":
                resources = rows["customer_resources"]
        if self.api.entitlements:
            pulls["entitlements"] = self._pull_entitlements(client, environment_id, resources, rows)
        for model, pull in pulls.items():
            changed, listed, gone = self._settle(model, environment_id, rows[model])
            pull.records_listed = listed
            pull.records_changed = len(changed)
            pull.records_gone = gone
            if changed:
                pull.file = self.write(model, environment_id, changed)
            self.result.pulls.append(pull)
            self.log(
                f"{environment_id} {model}: {pull.mode}, {pull.pages} page(s), {listed} listed, "
                f"{len(changed)} changed" + (f", {gone} gone" if gone else "")
            )

    def _pull_list(
        self, client: StiggApi, environment_id: str, api_model: ApiModel, rows: dict
    ) -> ModelPull:
        field_name = api_model.incremental_field
        variables: dict[str, Any] = {"filter": {}, "sorting": _ascending(api_model.sort_fields)}
        pull = ModelPull(api_model.model, environment_id, "incremental" if field_name else "full")
        if field_name:
            watermark = self.published.watermark(api_model.model, environment_id)
            pull.watermark = watermark
            if watermark is not None:
                pull.watermark_from = watermark - timedelta(minutes=self.api.overlap_minutes)
                variables["filter"] = {field_name: {"gte": iso(pull.watermark_from)}}
        operation = api_model.operation
        document = queries.list_query(api_model.model)
        for nodes in client.pages(operation, api_model.query, document, variables):
            pull.pages += 1
            for node in nodes:
                self._check_environment(client, node, environment_id, api_model.query)
                rows[api_model.model].append(row_of(api_model, node))
                for field_in_node, _, child in NESTED.get(api_model.model, ()):
                    for nested in node.get(field_in_node) or []:
                        rows[child].append(row_of(API_MODELS_BY_MODEL[child], nested, node))
                if field_name and (moment := parse_time(node.get(field_name))) is not None:
                    pull.watermark = max(pull.watermark or moment, moment)
        return pull

    @staticmethod
    def _check_environment(client: StiggApi, node: dict, environment_id: str, query: str) -> None:
        found = node.get("environmentId")
        if found is not None and found != environment_id:
            raise ApiSourceError(
                f"{client.key.label}: {query} returned records of environment {found}; "
                f"STIGG_API_KEYS names this key's environment {environment_id}"
            )

    def _pull_entitlements(
        self, client: StiggApi, environment_id: str, resources: list[dict], rows: dict
    ) -> ModelPull:
        """One call per customer and per customer resource, `concurrency` at a time."""
        pull = ModelPull("entitlements", environment_id, "per customer")
        customers = []
        for nodes in client.pages(
            "EntitlementCustomers",
            "customers",
            queries.ENTITLEMENT_CUSTOMERS_QUERY,
            {"sorting": _ascending(("createdAt", API_MODELS_BY_MODEL["customers"].tie_break))},
        ):
            pull.pages += 1
            for node in nodes:
                self._check_environment(client, node, environment_id, "customers")
                customers.append(node)
        by_public_id = {c["customerId"]: c for c in customers}
        calls = [{**c, "resourceId": None} for c in customers] + [
            {**by_public_id[r["CUSTOMER_ID"]], "resourceId": r["RESOURCE_ID"]}
            for r in resources
            if r["CUSTOMER_ID"] in by_public_id
        ]
        document = queries.entitlements_query()
        entitlements = API_MODELS_BY_MODEL["entitlements"]

        def fetch(customer: dict) -> list[dict]:
            query = {"customerId": customer["customerId"]}
            if customer["resourceId"] is not None:
                query["resourceId"] = customer["resourceId"]
            data = client.query("Entitlements", document, {"query": query})
            return [row_of(entitlements, node, customer=customer) for node in data["entitlements"]]

        with ThreadPoolExecutor(max_workers=self.api.concurrency) as pool:
            for found in pool.map(fetch, calls):
                rows["entitlements"].extend(found)
        pull.pages += len(calls)
        return pull

    # --- change detection -------------------------------------------------------------------

    def _settle(self, model: str, environment_id: str, rows: list[dict]) -> tuple[list, int, int]:
        """(the rows to write: new or changed records, with the rules' columns filled; how many
        records were listed; how many known records a full pull no longer lists)."""
        api_model = API_MODELS_BY_MODEL[model]
        table = api_model.table
        derives_id = "ID" in table.column_names and api_model.source_of("ID") == ENTITLEMENT_KEY
        latest: dict[str, dict] = {}
        for row in rows:
            if derives_id:
                row["ID"] = entitlement_key(row)
            latest[_KEY_SEPARATOR.join(row[c] or "" for c in table.key)] = row
        changed = []
        now = self.pulled_at
        for record_key, row in latest.items():
            digest = content_hash(row)
            state_key = (model, environment_id, record_key)
            before = self.state.get(state_key)
            if before is not None and before.content_hash == digest:
                self.state[state_key] = replace(before, last_listed_at=now)
                continue
            first_seen = before.first_seen_at if before is not None else now
            for column in table.column_names:
                rule = api_model.source_of(column).split(OR_ELSE)[-1]
                if row[column] is not None:
                    continue
                if rule == FIRST_SEEN:
                    row[column] = iso(first_seen)
                elif rule == STATE_SEEN:
                    row[column] = iso(now)
                elif rule == NOT_DELETED:
                    row[column] = "false"
            self.state[state_key] = RecordState(digest, first_seen, now, now)
            changed.append(row)
        gone = 0
        if api_model.pulled_in_full:
            gone = sum(
                1
                for (m, env, record_key) in self.state
                if m == model and env == environment_id and record_key not in latest
            )
        return changed, len(latest), gone


def pull(settings: Settings, run_id: str, log: Callable[[str], None] = print) -> PullResult:
    """Pull every key's environment into `settings.api_export_dir` (see the module's doc)."""
    try:
        return _Pull(settings, run_id, log).run()
    except StiggApiError as exc:
        raise ApiSourceError(str(exc)) from None
