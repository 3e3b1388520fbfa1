"""The API source without a pipeline run: its settings, its documents against the SDL, and its
pulls against the fake API on loopback (paging, the page-size cap, faults, keys)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import graphql
import pytest

from orchestration.cli.run import run_config
from orchestration.runtime.sources.api import changes, queries, rows
from orchestration.runtime.sources.api import pull as api_pull
from orchestration.settings import ApiSettings, Settings, parse_api_keys
from orchestration.spec.api import (
    API_MODELS,
    API_MODELS_BY_MODEL,
    NESTED,
    NOT_FROM_THE_API,
    Absent,
    Derived,
    Field,
    FromCustomer,
    FromParent,
    JsonList,
    Rule,
    api_rule_note,
    columns_the_api_lacks,
)
from orchestration.spec.tables import TABLES
from tests.support.api import pulled_rows, small_records
from tests.support.fake_stigg_api import FakeStiggApi, Fault

ENV_A, ENV_B = "env-a", "env-b"
KEY_A, KEY_B = "server-key-a-0123456789", "server-key-b-9876543210"


def test_every_document_the_source_sends_validates_against_the_sdl():
    schema = graphql.build_schema(queries.SCHEMA_PATH.read_text(encoding="utf-8"))
    documents = queries.all_documents()
    assert len(documents) == 14  # 11 lists, the probe, the entitlement customers, entitlements
    for name, document in documents.items():
        assert graphql.validate(schema, graphql.parse(document)) == [], name


def test_a_field_the_sdl_lacks_fails_validation():
    schema = graphql.build_schema(queries.SCHEMA_PATH.read_text(encoding="utf-8"))
    wrong = queries.list_query("customers").replace("billingCurrency", "billingCurency")
    assert graphql.validate(schema, graphql.parse(wrong))


def _refused(document: str, variables: dict | None = None) -> list[str]:
    """What the SDL says against a document (and its variables); [] when it is accepted."""
    schema = graphql.build_schema(queries.SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = graphql.validate(schema, graphql.parse(document))
    if not errors and variables is not None:
        errors = graphql.graphql_sync(schema, document, variable_values=variables).errors or []
    return [error.message for error in errors]


def test_each_correction_from_stiggs_reference_refuses_the_document_it_replaced():
    """The documents as a naming rule wrote them, before they were checked against Stigg's
    published reference (shared/stigg-api.md), are refused; the corrected ones pass."""
    subscriptions = queries.list_query("subscriptions")
    entitlements = queries.entitlements_query()
    fragments = (
        "resetPeriodConfiguration { ... on MonthlyResetPeriodConfig { monthlyAccordingTo } "
        "... on WeeklyResetPeriodConfig { weeklyAccordingTo } }"
    )
    assert fragments in entitlements
    before = {
        "argument types named by a rule": subscriptions.replace(
            "SubscriptionQueryFilter", "SubscriptionFilter"
        ).replace("SubscriptionQuerySort", "SubscriptionSort"),
        "isCustomPriceSubscription": subscriptions.replace(
            "pricingType", "pricingType isCustomPriceSubscription"
        ),
        "a coupon's couponId": subscriptions.replace(
            "coupons { id refId status }", "coupons { id couponId status }"
        ),
        "the union's fields without fragments": entitlements.replace(
            fragments, "resetPeriodConfiguration { monthlyAccordingTo weeklyAccordingTo }"
        ),
    }
    for correction, document in before.items():
        assert document not in (subscriptions, entitlements), correction
        assert _refused(document), correction
    assert _refused(subscriptions) == [] and _refused(entitlements) == []
    # A sort on id is refused by the list's sort fields; the list's own tie-break is accepted.
    page = {"filter": {}, "paging": {"first": 1}}
    sort_on = lambda tie_break: [  # noqa: E731
        {"field": "createdAt", "direction": "ASC"}, {"field": tie_break, "direction": "ASC"},
    ]  # fmt: skip
    [refused] = _refused(subscriptions, {**page, "sorting": sort_on("id")})
    assert "Value 'id' does not exist in 'SubscriptionQuerySortFields' enum" in refused
    assert API_MODELS_BY_MODEL["subscriptions"].tie_break == "subscriptionId"
    # Accepted: the only error left is that this schema has no data behind it.
    assert _refused(subscriptions, {**page, "sorting": sort_on("subscriptionId")}) == [
        "Cannot return null for non-nullable field Query.subscriptions."
    ]
    # The plans list sorts on createdAt, displayName, refId and status (its reference page): the
    # incremental field and id, which the naming rule sorted on, are refused.
    plans = queries.list_query("plans")
    plan_sort = [{"field": f, "direction": "ASC"} for f in API_MODELS_BY_MODEL["plans"].sort_fields]
    assert plan_sort == [sort_on("refId")[0], {"field": "refId", "direction": "ASC"}]
    assert _refused(plans, {**page, "sorting": plan_sort}) == [
        "Cannot return null for non-nullable field Query.plans."
    ]
    for field in ("updatedAt", "id"):
        [refused] = _refused(plans, {**page, "sorting": [{"field": field, "direction": "ASC"}]})
        assert f"Value '{field}' does not exist in 'PlanSortFields' enum" in refused


def test_the_api_fills_16_tables_and_every_mandatory_column_by_a_field_or_a_rule():
    assert {m.model for m in API_MODELS} | set(NOT_FROM_THE_API) == {t.model for t in TABLES}
    assert len(API_MODELS) == 16
    for api_model in API_MODELS:
        for column in api_model.table.columns:
            if column.mandatory:
                source = api_model.source_of(column.name)
                assert not isinstance(source, Absent), (api_model.model, column.name)
    assert set(columns_the_api_lacks("subscriptions")) == {
        "UPDATED_AT",
        "IS_CUSTOM_PRICE_SUBSCRIPTION",
    }
    assert set(columns_the_api_lacks("entitlements")) == {
        "ID", "CREATED_AT", "RESOURCE_UUID", "IS_DELETED",
    }  # fmt: skip


def test_the_column_map_is_typed_and_each_kind_reads_what_its_model_has():
    nested = {child for children in NESTED.values() for _, _, child in children}
    for api_model in API_MODELS:
        assert list(api_model.sources) == list(api_model.table.column_names)
        for column, source in api_model.sources.items():
            where = (api_model.model, column)
            kinds = Field | JsonList | FromParent | FromCustomer | Derived | Absent
            assert isinstance(source, kinds), where
            if isinstance(source, FromParent):  # resolved: the parent's field it reads
                assert api_model.model in nested and source.field, where
            if isinstance(source, FromCustomer):  # only an entitlement is asked per customer
                assert api_model.model == "entitlements", where
    subscription_prices = API_MODELS_BY_MODEL["subscription_prices"]
    assert subscription_prices.source_of("SUBSCRIPTION_ID") == FromParent("subscriptionId")
    assert subscription_prices.source_of("ENVIRONMENT_ID") == FromParent("environmentId")
    assert API_MODELS_BY_MODEL["customers"].source_of("BILLING_CURRENCY") == Field(
        "billingCurrency"
    )
    assert API_MODELS_BY_MODEL["entitlements"].source_of("UPDATED_AT") == Field(
        "entitlementUpdatedAt", or_else=Rule.STATE_SEEN
    )


def test_the_rule_notes_of_the_column_descriptions():
    assert api_rule_note("customers", "BILLING_CURRENCY") is None  # a field: no note
    assert api_rule_note("usage_events", "ID") is None  # not from the API
    assert api_rule_note("subscription_applied_coupons", "DELETED_AT") == (
        "Stigg's API has no field for it: NULL from STIGG_SOURCE=api."
    )
    assert api_rule_note("subscriptions", "UPDATED_AT") == (
        "From Stigg's API (STIGG_SOURCE=api), which has no such field: the time the pull that "
        "first saw the record in this state ran (a pull writes a record again only when its "
        "content changed)."
    )
    assert api_rule_note("entitlements", "UPDATED_AT") == (
        "From Stigg's API (STIGG_SOURCE=api): entitlementUpdatedAt; when the API gives none, "
        "the time the pull that first saw the record in this state ran (a pull writes a record "
        "again only when its content changed)."
    )


def test_a_node_becomes_a_row_by_the_column_map():
    plan = {"id": "plan-1", "environmentId": ENV_A}
    price = {
        "id": "price-1",
        "price": {"amount": 12.0, "currency": "USD"},
        "tiers": [{"upTo": 10.0, "unitPrice": {"amount": 1.5, "currency": "USD"}}],
    }
    row = rows.row_of(API_MODELS_BY_MODEL["prices"], price, parent=plan)
    assert row["PRICE_AMOUNT"] == "12" and row["PRICE_CURRENCY"] == "USD"
    assert row["ENVIRONMENT_ID"] == ENV_A  # the plan's
    assert row["TIERS"] == '[{"upTo": 10, "unitPriceAmount": 1.5, "unitPriceCurrency": "USD"}]'
    assert row["UPDATED_AT"] is None  # the pull's, when the row is written
    coupon = {"refId": "c-1", "amountsOff": [{"amount": 5.0, "currency": "EUR"}]}
    row = rows.row_of(API_MODELS_BY_MODEL["coupons"], coupon)
    assert row["COUPON_ID"] == "c-1" and row["AMOUNTS_OFF"] == '[{"amount": 5, "currency": "EUR"}]'
    subscriptions = API_MODELS_BY_MODEL["subscriptions"]
    for pricing_type, custom in (("CUSTOM", "true"), ("PAID", "false"), (None, None)):
        row = rows.row_of(subscriptions, {"pricingType": pricing_type, "customer": None})
        assert row["IS_CUSTOM_PRICE_SUBSCRIPTION"] == custom and row["CUSTOMER_ID"] is None

    entitlements = API_MODELS_BY_MODEL["entitlements"]
    customer = {"id": "cus-1", "customerId": "customer-1", "environmentId": ENV_A}
    node = {
        "feature": {"id": "feat-1", "refId": "feature-seats"},
        "entitlementUpdatedAt": None,
        "resetPeriodConfiguration": {"monthlyAccordingTo": "StartOfTheMonth"},
    }
    row = rows.row_of(entitlements, node, customer={**customer, "resourceId": None})
    assert (row["CUSTOMER_UUID"], row["CUSTOMER_ID"], row["RESOURCE_ID"]) == (
        "cus-1", "customer-1", None,
    )  # fmt: skip
    assert row["RESET_PERIOD_MONTHLY_ACCORDING_TO"] == "StartOfTheMonth"
    rows.fill_keys(entitlements, row)
    assert row["ID"] == rows.entitlement_key(row) and row["ID"].startswith("api-ent-")
    first, now = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    rows.fill_pull_rules(entitlements, row, first, now)
    assert (row["CREATED_AT"], row["UPDATED_AT"], row["IS_DELETED"]) == (
        "2025-01-01T00:00:00.000000Z", "2025-02-01T00:00:00.000000Z", "false",
    )  # fmt: skip
    assert row["RESOURCE_UUID"] is None  # Absent: never made up
    given = rows.row_of(entitlements, {**node, "entitlementUpdatedAt": "2024-12-01T00:00:00Z"})
    rows.fill_pull_rules(entitlements, given, first, now)
    assert given["UPDATED_AT"] == "2024-12-01T00:00:00Z"  # the API's, when it gives one


def test_only_a_changed_record_is_written_again_and_keeps_when_it_was_first_seen():
    coupons = API_MODELS_BY_MODEL["subscription_applied_coupons"]
    state: dict = {}

    def listed(status: str) -> list[dict]:
        node = {"id": "ac-1", "refId": "c-1", "status": status}
        return [rows.row_of(coupons, node, parent={"subscriptionId": "s-1", "environmentId": "e"})]

    first, later = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    settled = changes.settle(coupons, "e", listed("ACTIVE"), state, first)
    assert (len(settled.changed), settled.listed, settled.gone) == (1, 1, 0)
    assert settled.changed[0]["CREATED_AT"] == settled.changed[0]["UPDATED_AT"] == rows.iso(first)
    assert changes.settle(coupons, "e", listed("ACTIVE"), state, later).changed == []
    [record] = state.values()
    assert record.last_listed_at == later and record.state_seen_at == first
    [changed] = changes.settle(coupons, "e", listed("EXPIRED"), state, later).changed
    assert (changed["CREATED_AT"], changed["UPDATED_AT"]) == (rows.iso(first), rows.iso(later))
    assert changes.settle(coupons, "e", [], state, later).gone == 1  # nested in a full list


def test_keys_carry_their_environment_and_never_show_their_value():
    keys = parse_api_keys(f"{KEY_A}, {ENV_B}={KEY_B}==\n")
    assert [k.environment_id for k in keys] == [None, ENV_B]
    assert keys[1].value == f"{KEY_B}=="  # a key's own `=` never splits it
    assert [k.label for k in keys] == ["key 1 of 2", f"environment {ENV_B}"]
    settings = Settings(
        export_uri="x", warehouse_path=Path("/tmp/w.duckdb"), source="api",
        api=ApiSettings(keys=keys),
    )  # fmt: skip
    for text in (repr(keys), repr(settings), repr(settings.api), str(keys[0])):
        assert KEY_A not in text and KEY_B not in text


def test_keys_come_from_a_file_one_a_line(tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# production\n{ENV_A}={KEY_A}\n\n{KEY_B}\n")
    api = ApiSettings.from_env({"STIGG_API_KEYS_FILE": str(keys_file)})
    assert [(k.environment_id, k.value) for k in api.keys] == [(ENV_A, KEY_A), (None, KEY_B)]
    with pytest.raises(ValueError, match="STIGG_API_KEYS_FILE"):
        ApiSettings.from_env({"STIGG_API_KEYS_FILE": str(tmp_path / "missing")})


def test_the_source_flag_is_run_config_and_the_keys_never_are():
    args = argparse.Namespace(source="api", export_uri=None, warehouse_path=None, engine=None)
    config = run_config(args)
    assert config["resources"]["warehouse"]["config"]["source"] == "api"
    assert "KEY" not in repr(config).upper()


def test_the_api_source_refuses_the_spark_engine_with_a_reason():
    with pytest.raises(ValueError, match="STIGG_SOURCE=api builds with duckdb only"):
        Settings(export_uri="x", warehouse_path=Path("/tmp/w.duckdb"), source="api", engine="spark")


# --- pulls against the fake API --------------------------------------------------------------


def _settings(tmp_path: Path, url: str, keys: str, **api: float) -> Settings:
    values = {"page_size": 3, "timeout_seconds": 2.0, "max_attempts": 3, "backoff_seconds": 0.05}
    values.update(api)
    return Settings(
        export_uri="unused",
        warehouse_path=tmp_path / "wh" / "stigg_warehouse.duckdb",
        source="api",
        api=ApiSettings(url=url, keys=parse_api_keys(keys), **values),
    )


@pytest.fixture
def fake() -> FakeStiggApi:
    with FakeStiggApi(
        keys={KEY_A: ENV_A, KEY_B: ENV_B},
        records={ENV_A: small_records(ENV_A), ENV_B: small_records(ENV_B, customers=2)},
        page_cap=2,
    ) as api:
        yield api


def _content(folder: Path) -> dict[str, list[tuple]]:
    return {
        m.model: pulled_rows(folder, m.model, leave_out=columns_the_api_lacks(m.model))
        for m in API_MODELS
    }


@pytest.mark.slow  # the fake API: a server
def test_a_pull_pages_past_the_page_size_cap_and_learns_each_keys_environment(tmp_path, fake):
    settings = _settings(tmp_path, fake.url, f"{KEY_A},{ENV_B}={KEY_B}", page_size=5)
    result = api_pull.pull(settings, "run-0001", log=lambda m: None)
    assert fake.invalid_documents == []
    customers = pulled_rows(settings.api_export_dir, "customers")
    assert len(customers) == 7 + 2
    pulls = {(p.model, p.environment_id): p for p in result.pulls}
    # 7 customers, 2 a page: the API's cap wins over the 5 asked for.
    assert pulls[("customers", ENV_A)].pages == 4
    assert pulls[("customers", ENV_B)].pages == 1
    asked = [v["paging"]["first"] for env, op, v in fake.requests if op == "Customers"]
    assert set(asked) == {5}
    # Incremental lists sort on their field, then id; full lists on creation, then a unique
    # field that the list accepts (subscriptions refuse id: subscriptionId).
    sorting = {op: v.get("sorting") for _, op, v in fake.requests if "sorting" in v}
    assert sorting["Customers"] == [
        {"field": "updatedAt", "direction": "ASC"}, {"field": "id", "direction": "ASC"},
    ]  # fmt: skip
    assert sorting["Subscriptions"] == [
        {"field": "createdAt", "direction": "ASC"}, {"field": "subscriptionId", "direction": "ASC"},
    ]  # fmt: skip
    # Plans filter on updatedAt but sort on what their list accepts: createdAt, then refId.
    assert sorting["Plans"] == [
        {"field": "createdAt", "direction": "ASC"}, {"field": "refId", "direction": "ASC"},
    ]  # fmt: skip
    # Every node, and so every file, of a key is of its environment.
    assert {r[0] for r in pulled_rows(settings.api_export_dir, "subscriptions",
            leave_out=tuple(c for c in API_MODELS_BY_MODEL["subscriptions"].table.column_names
                            if c != "ENVIRONMENT_ID"))} == {ENV_A, ENV_B}  # fmt: skip
    assert all(
        KEY_A not in str(p) and KEY_B not in str(p) for p in settings.api_export_dir.rglob("*")
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault("429"),
        Fault("500"),
        Fault("graphql_error"),
        Fault("slow", seconds=2.5),  # past the 2 s timeout
        Fault("drop"),
    ],
    ids=lambda f: f.kind,
)
@pytest.mark.slow  # the fake API: a server
def test_a_fault_that_retries_mend_pulls_exactly_what_a_clean_pull_does(tmp_path, fake, fault):
    clean = _settings(tmp_path / "clean", fake.url, f"{KEY_A},{KEY_B}")
    api_pull.pull(clean, "run-clean", log=lambda m: None)
    fake.faults = [Fault(fault.kind, "Customers", fault.seconds)] * 2
    faulted = _settings(tmp_path / "faulted", fake.url, f"{KEY_A},{KEY_B}")
    api_pull.pull(faulted, "run-fault", log=lambda m: None)
    assert fake.faults == []  # both faults were served, and retried past
    assert _content(faulted.api_export_dir) == _content(clean.api_export_dir)
    assert _content(clean.api_export_dir)["customers"]


@pytest.mark.slow  # the fake API: a server
@pytest.mark.parametrize("kind", ["429", "500", "graphql_error", "drop"])
def test_a_fault_past_the_retries_names_the_environment_and_the_query(tmp_path, fake, kind):
    fake.faults = [Fault(kind, "Subscriptions")] * 3  # max_attempts = 3
    settings = _settings(tmp_path, fake.url, f"{ENV_A}={KEY_A}")
    with pytest.raises(api_pull.ApiSourceError) as failure:
        api_pull.pull(settings, "run-0002", log=lambda m: None)
    message = str(failure.value)
    assert f"environment {ENV_A}" in message and "Subscriptions" in message
    assert "after 3 attempts" in message
    assert KEY_A not in message


@pytest.mark.slow  # the fake API: a server
def test_a_wrong_key_and_a_key_without_access_are_named_by_position_or_environment(tmp_path, fake):
    wrong = _settings(tmp_path / "wrong", fake.url, f"{KEY_A},server-not-a-key")
    with pytest.raises(api_pull.ApiSourceError) as failure:
        api_pull.pull(wrong, "run-0003", log=lambda m: None)
    assert "key 2 of 2" in str(failure.value) and "HTTP 401" in str(failure.value)
    assert "EnvironmentProbe" in str(failure.value)
    assert "server-not-a-key" not in str(failure.value)

    fake.denied = {(KEY_B, "Subscriptions")}
    scoped = _settings(tmp_path / "scoped", fake.url, f"{ENV_B}={KEY_B}")
    with pytest.raises(api_pull.ApiSourceError) as failure:
        api_pull.pull(scoped, "run-0004", log=lambda m: None)
    assert f"environment {ENV_B}" in str(failure.value)
    assert "Subscriptions" in str(failure.value) and "HTTP 403" in str(failure.value)
    assert KEY_B not in str(failure.value)


@pytest.mark.slow  # the fake API: a server
def test_a_key_whose_records_are_of_another_environment_is_refused(tmp_path, fake):
    settings = _settings(tmp_path, fake.url, f"{ENV_B}={KEY_A}")
    with pytest.raises(api_pull.ApiSourceError, match=f"records of environment {ENV_A}"):
        api_pull.pull(settings, "run-0005", log=lambda m: None)


@pytest.mark.slow  # the fake API: a server
def test_a_pull_deletes_the_files_of_a_pull_that_was_never_published(tmp_path, fake):
    settings = _settings(tmp_path, fake.url, KEY_A)
    api_pull.pull(settings, "run-first", log=lambda m: None)
    first = sorted(p.name for p in settings.api_export_dir.rglob("*.parquet"))
    assert first and all("run-firs" in name for name in first)
    messages: list[str] = []
    api_pull.pull(settings, "run-again", log=messages.append)
    again = sorted(p.name for p in settings.api_export_dir.rglob("*.parquet"))
    assert again and all("run-agai" in name for name in again)  # nothing of the first is left
    assert any("no published warehouse names" in m for m in messages)


def test_run_with_the_api_source_and_no_key_says_what_to_set(tmp_path):
    from tests.support.runs import clean_env, run_cli

    env = clean_env(STIGG_WAREHOUSE_PATH=str(tmp_path / "wh.duckdb"), DAGSTER_HOME=str(tmp_path))
    result = run_cli(["run", "--source", "api"], env, timeout=120)
    assert result.returncode == 2
    assert "STIGG_API_KEYS" in result.stderr and "STIGG_API_KEYS_FILE" in result.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_with_the_api_source_raw_usage_events_have_no_freshness_check():
    from orchestration.defs.landing import raw_freshness_checks
    from orchestration.settings import AutomationSettings

    def checked(source: str) -> set[str]:
        checks = raw_freshness_checks(AutomationSettings(source=source))
        return {key.asset_key.path[-1] for c in checks for key in c.check_keys}

    assert "usage_events" in checked("export")
    assert checked("api") == checked("export") - {"usage_events"}
