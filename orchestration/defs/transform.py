"""Groups `staging` and `stigg`: the dbt project, built into the run's working copy."""

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt_project import stigg_dbt_project
from orchestration.defs.resources import WAREHOUSE_POOL, StiggWarehouseResource
from orchestration.services import warehouse
from orchestration.settings import DBT_DATABASE_ENV


class StiggDbtTranslator(DagsterDbtTranslator):
    """Asset keys are <schema>/<table>, as analysts see them; groups follow the model folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey(
            [
                dbt_resource_props["schema"],
                dbt_resource_props.get("alias") or dbt_resource_props["name"],
            ]
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else None


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Variables for the dbt subprocess, which copies os.environ when it starts."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dbt_assets(
    manifest=stigg_dbt_project.manifest_path,
    project=stigg_dbt_project,
    dagster_dbt_translator=StiggDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def stigg_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, stigg: StiggWarehouseResource
) -> Iterator:
    settings = stigg.settings()
    with _environment(**{DBT_DATABASE_ENV: str(settings.build_path)}):
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)
    # Hold the events until dbt exits: row counts need the file, and dbt holds it until then.
    events = list(invocation.stream())
    keys = {
        id(event): context.asset_key_for_output(event.output_name)
        for event in events
        if isinstance(event, dg.Output)
    }
    counts = _row_counts(settings.build_path, keys.values())
    for event in events:
        count = counts.get(keys.get(id(event)))
        if count is not None:
            event = event.with_metadata({**event.metadata, "dagster/row_count": count})
        yield event
    if not invocation.is_successful():
        raise dg.Failure(
            description="dbt build failed: see the failed models and checks of this run.",
            metadata={"dbt_exit_code": invocation.process.returncode},
        )


def _row_counts(path: Path, keys: Iterable[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Rows of each <schema>/<table> asset; a table that dbt did not build is left out."""
    counts = {}
    with warehouse.connect(path, read_only=True) as con:
        for key in keys:
            schema, table = (warehouse.quote_identifier(part) for part in key.path)
            try:
                counts[key] = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            except duckdb.CatalogException:
                continue
    return counts
