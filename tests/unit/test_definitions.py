"""The Dagster code location: job, schedule, sensors, pool, groups, checks and asset keys."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from orchestration.definitions import defs
from orchestration.defs.automation import SCHEDULE_NAME, SENSOR_NAME, automation
from orchestration.settings import DEFAULT_DAGSTER_HOME, AutomationSettings
from orchestration.spec.tables import TABLES
from tests.support.warehouse import ANALYTICS_MODELS


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_asset_keys_and_groups_run_raw_staging_stigg_publish(definitions):
    graph = definitions.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert groups["raw"] == {f"raw/{t.model}" for t in TABLES}
    assert groups["staging"] == {f"staging/stg_stigg__{t.model}" for t in TABLES}
    assert groups["stigg"] == {f"stigg/{t.name}" for t in TABLES}
    assert groups["rejects"] == {f"rejects/{t.model}" for t in TABLES}
    assert groups["publish"] == {"warehouse/published"}
    assert groups["analytics"] == {
        *(f"analytics/{model}" for model in ANALYTICS_MODELS),
        "analytics/report",
    }
    assert groups["meta"] == {
        "meta/landed_files",
        "meta/dbt_processed_loads",
        "meta/reconciliation",
    }
    assert set(groups) == {"raw", "staging", "stigg", "rejects", "meta", "analytics", "publish"}


def test_lineage_runs_raw_to_staging_to_stigg_to_publish(definitions):
    graph = definitions.resolve_asset_graph()
    customers = dg.AssetKey(["stigg", "CUSTOMERS"])
    staging = dg.AssetKey(["staging", "stg_stigg__customers"])
    assert graph.get(customers).parent_keys == {staging}
    assert graph.get(staging).parent_keys == {dg.AssetKey(["raw", "customers"])}
    assert customers in graph.get(dg.AssetKey(["warehouse", "published"])).parent_keys


def test_job_materializes_every_asset_in_one_process(definitions):
    job = definitions.resolve_job_def("stigg_elt")
    graph = definitions.resolve_asset_graph()
    assert job.asset_layer.selected_asset_keys == set(graph.materializable_asset_keys)
    # One process per run: the run, not each step, holds the warehouse's writer lock.
    assert job.executor_def.name == "in_process"


def test_the_run_wide_lock_is_the_one_writer_mechanism(definitions):
    job = definitions.resolve_job_def("stigg_elt")
    nodes = job.graph.node_dict
    # Every step that writes needs the writer resource, which holds the lock for the whole run.
    writers = {
        name
        for name, node in nodes.items()
        if "warehouse" in node.definition.required_resource_keys
    }
    assert writers == {"raw_export", "stigg_dbt_models", "warehouse__published"}
    # The report reads the published file read-only, as an analyst does: no lock.
    assert nodes["analytics__report"].definition.required_resource_keys == {"published"}
    # No pool: a pool limits steps on instances that configure one; the lock limits runs on any.
    assert all(node.definition.pool is None for node in nodes.values())
    # Steps that touch no warehouse (the freshness checks) need no resource at all.
    others = [n for n in nodes.values() if n.name not in writers | {"analytics__report"}]
    assert others and all(not n.definition.required_resource_keys for n in others)


def test_the_shipped_dagster_yaml_sets_no_pool_limit():
    config = yaml.safe_load((DEFAULT_DAGSTER_HOME / "dagster.yaml").read_text())
    assert "concurrency" not in config
    assert config["telemetry"] == {"enabled": False}


def test_schedule_runs_the_job_daily_at_six_utc_by_default(definitions):
    schedule = definitions.resolve_schedule_def(SCHEDULE_NAME)
    assert schedule.job_name == "stigg_elt"
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_schedule_and_sensor_are_configurable(monkeypatch):
    monkeypatch.setenv("STIGG_SCHEDULE_CRON", "30 2 * * 1-5")
    monkeypatch.setenv("STIGG_SCHEDULE_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("STIGG_SCHEDULE_ENABLED", "true")
    monkeypatch.setenv("STIGG_SENSOR_ENABLED", "1")
    monkeypatch.setenv("STIGG_SENSOR_INTERVAL_SECONDS", "15")
    configured = automation()
    schedule = configured.resolve_schedule_def(SCHEDULE_NAME)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "30 2 * * 1-5",
        "Europe/Berlin",
    )
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = configured.resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 15


def test_sensor_watches_the_export_for_the_job(definitions):
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    assert sensor.job_name == "stigg_elt"
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert definitions.resolve_sensor_def("raw_freshness") is not None


def test_dbt_tests_landing_checks_and_freshness_are_asset_checks(definitions):
    graph = definitions.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for t in TABLES:
        assert (f"raw/{t.model}", "files_readable") in checks
        assert (f"raw/{t.model}", "files_unchanged") in checks
        assert (f"raw/{t.model}", "freshness_check") in checks
    assert ("stigg/CUSTOMERS", "not_null_CUSTOMERS") in checks  # every mandatory column
    assert ("stigg/CUSTOMERS", "unique_CUSTOMERS_ID") in checks
    assert ("stigg/CUSTOMERS", "stigg_reconciles_with_raw_CUSTOMERS") in checks
    assert ("stigg/USAGE_EVENTS", "USAGE_EVENTS_ENV_not_null") in checks
    assert (
        "stigg/CUSTOMER_RESOURCES",
        "unique_CUSTOMER_RESOURCES_ENVIRONMENT_ID_CUSTOMER_ID_RESOURCE_ID",
    ) in checks


def test_freshness_age_is_configurable():
    six_hours = AutomationSettings.from_env({"STIGG_FRESHNESS_MAX_AGE_HOURS": "6"})
    assert six_hours.freshness_max_age_hours == 6.0
    assert AutomationSettings.from_env({}).freshness_max_age_hours == 48.0


def test_assets_carry_kinds_descriptions_and_column_schemas(definitions):
    graph = definitions.resolve_asset_graph()
    customers = graph.get(dg.AssetKey(["stigg", "CUSTOMERS"]))
    assert {"dbt", "duckdb"} <= set(customers.kinds)
    assert "customer of your application" in customers.description
    assert customers.metadata["dagster/table_name"] == "stigg.CUSTOMERS"
    columns = {c.name: c for c in customers.metadata["dagster/column_schema"].columns}
    assert columns["CUSTOMER_ID"].type == "VARCHAR"
    assert columns["CUSTOMER_ID"].description == "Customer identifier"
    assert columns["CUSTOMER_ID"].constraints.nullable is False  # mandatory in the doc
    assert columns["EMAIL"].constraints.nullable is True

    raw = graph.get(dg.AssetKey(["raw", "customers"]))
    assert "duckdb" in raw.kinds
    raw_columns = [c.name for c in raw.metadata["dagster/column_schema"].columns]
    assert "customer_id" in raw_columns and "_stigg_source_file" in raw_columns


def test_the_dbt_resource_needs_no_dbt_subprocess_to_know_its_version():
    """StiggDbtCli overrides two dagster-dbt internals; this fails if dagster-dbt renames them."""
    from dagster_dbt import DbtCliResource
    from dbt.version import __version__

    from orchestration.runtime.private_apis import StiggDbtCli
    from orchestration.settings import dbt_executable

    assert hasattr(DbtCliResource, "_cli_version") and hasattr(
        DbtCliResource, "_initialize_dbt_core_adapter"
    )
    # The executable the runs start, found beside this Python: no PATH needed.
    dbt = StiggDbtCli(
        project_dir=str(DEFAULT_DAGSTER_HOME.parent / "dbt_project"),
        dbt_executable=dbt_executable(),
    )
    assert str(dbt._cli_version) == __version__
    assert dbt._initialize_dbt_core_adapter([]) is None


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--warehouse-path", "x/w.duckdb"],
        ["--engine", "spark"],
        ["--export-uri", "s3://b/p", "--source", "api"],
    ],
)
def test_the_job_takes_the_run_config_that_each_cli_flag_makes(definitions, flags):
    """A resource's run config that gave one of its fields was refused before any step ran
    ("Missing required config entry"): `stigg-warehouse run --warehouse-path` failed."""
    from orchestration.cli.main import build_parser
    from orchestration.cli.run import run_config

    config = run_config(build_parser().parse_args(["run", *flags]))
    assert dg.validate_run_config(definitions.resolve_job_def("stigg_elt"), config)
