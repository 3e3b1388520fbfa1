"""The Dagster code location loads, with the job, groups, pool, checks and asset keys we expect."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.resources import WAREHOUSE_POOL
from orchestration.stigg_spec import TABLES


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_asset_graph_has_raw_staging_stigg_and_publish_groups(definitions):
    graph = definitions.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert groups["raw"] == {f"raw/{t.model}" for t in TABLES}
    assert groups["staging"] == {f"staging/stg_stigg__{t.model}" for t in TABLES}
    assert groups["stigg"] == {f"stigg/{t.name}" for t in TABLES}
    assert groups["rejects"] == {f"rejects/{t.model}" for t in TABLES}
    assert groups["publish"] == {"warehouse/published"}


def test_lineage_runs_raw_to_staging_to_stigg_to_publish(definitions):
    graph = definitions.resolve_asset_graph()
    customers = dg.AssetKey(["stigg", "CUSTOMERS"])
    staging = dg.AssetKey(["staging", "stg_stigg__customers"])
    assert graph.get(customers).parent_keys == {staging}
    assert graph.get(staging).parent_keys == {dg.AssetKey(["raw", "customers"])}
    assert customers in graph.get(dg.AssetKey(["warehouse", "published"])).parent_keys


def test_every_writer_is_in_the_warehouse_pool(definitions):
    job = definitions.resolve_job_def("stigg_elt")
    pools = {node.name: node.definition.pool for node in job.graph.node_dict.values()}
    assert pools and set(pools.values()) == {WAREHOUSE_POOL}, pools


def test_dbt_tests_and_landing_checks_are_asset_checks(definitions):
    graph = definitions.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("raw/customers", "files_readable") in checks
    assert ("raw/customers", "files_unchanged") in checks
    assert ("stigg/CUSTOMERS", "not_null_CUSTOMERS_ID") in checks
    assert ("stigg/CUSTOMERS", "unique_CUSTOMERS_ID") in checks


def test_assets_carry_kinds_and_descriptions(definitions):
    graph = definitions.resolve_asset_graph()
    customers = graph.get(dg.AssetKey(["stigg", "CUSTOMERS"]))
    assert {"dbt", "duckdb"} <= set(customers.kinds)
    assert "customer of your application" in customers.description
    assert "duckdb" in graph.get(dg.AssetKey(["raw", "customers"])).kinds
