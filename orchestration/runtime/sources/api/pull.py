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

This module runs a pull: the keys and their environments, each model's list (and the models
nested in it), and the entitlements, one call per customer. Beside it, each with one job:
queries.py (the GraphQL documents), client.py (the HTTP calls, paging and retries), rows.py (a
node as a row, by the column map), changes.py (change detection against the published state),
sink.py (the files, in the export's layout), result.py (what the pull did) and manifest.py (what
the published warehouse knows of past pulls).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestration.runtime.sources.api import queries
from orchestration.runtime.sources.api.changes import settle
from orchestration.runtime.sources.api.client import StiggApi, StiggApiError
from orchestration.runtime.sources.api.manifest import RecordState, StateKey, read_published
from orchestration.runtime.sources.api.result import ModelPull, PullResult
from orchestration.runtime.sources.api.rows import Row, iso, parse_time, row_of
from orchestration.runtime.sources.api.sink import ExportFolder
from orchestration.settings import Settings
from orchestration.spec.api import API_MODELS, API_MODELS_BY_MODEL, NESTED, ApiModel

__all__ = ["ApiSourceError", "ModelPull", "PullResult", "pull"]


class ApiSourceError(RuntimeError):
    """The API source cannot pull: a configuration it cannot use, or a request that failed."""


def _ascending(fields: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"field": f, "direction": "ASC"} for f in fields]


class _Pull:
    """One run's pull, over every key."""

    def __init__(self, settings: Settings, run_id: str, log: Callable[[str], None]) -> None:
        self.settings = settings
        self.api = settings.api
        self.run_id = run_id
        self.log = log
        self.pulled_at = datetime.now(UTC).replace(microsecond=0)
        self.files = ExportFolder(settings.api_export_dir, run_id, self.pulled_at)
        self.published = read_published(settings.warehouse_path)
        self.state: dict[StateKey, RecordState] = dict(self.published.state)
        self.result = PullResult(run_id, self.pulled_at, published=self.published)

    # --- the keys ---------------------------------------------------------------------------

    def run(self) -> PullResult:
        if not self.api.keys:
            raise ApiSourceError(
                "STIGG_SOURCE=api needs the API's server keys: set STIGG_API_KEYS "
                "(comma-separated, each KEY or ENV_ID=KEY) or STIGG_API_KEYS_FILE"
            )
        removed = self.files.discard_unpublished_files(self.published.landed_paths)
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
        rows: dict[str, list[Row]] = {m.model: [] for m in API_MODELS}
        pulls: dict[str, ModelPull] = {}
        resources: list[Row] = []
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
            changed, listed, gone = settle(
                API_MODELS_BY_MODEL[model], environment_id, rows[model], self.state, self.pulled_at
            )
            pull.records_listed = listed
            pull.records_changed = len(changed)
            pull.records_gone = gone
            if changed:
                pull.file = self.files.write(model, environment_id, changed)
            self.result.pulls.append(pull)
            self.log(
                f"{environment_id} {model}: {pull.mode}, {pull.pages} page(s), {listed} listed, "
                f"{len(changed)} changed" + (f", {gone} gone" if gone else "")
            )

    def _pull_list(
        self,
        client: StiggApi,
        environment_id: str,
        api_model: ApiModel,
        rows: dict[str, list[Row]],
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
        self,
        client: StiggApi,
        environment_id: str,
        resources: list[Row],
        rows: dict[str, list[Row]],
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

        def fetch(customer: dict) -> list[Row]:
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


def pull(settings: Settings, run_id: str, log: Callable[[str], None] = print) -> PullResult:
    """Pull every key's environment into `settings.api_export_dir` (see the module's doc)."""
    try:
        return _Pull(settings, run_id, log).run()
    except StiggApiError as exc:
        raise ApiSourceError(str(exc)) from None
