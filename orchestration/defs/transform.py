"""Groups `staging` and `stigg`: the dbt project, built into the run's working copy."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt_project import stigg_dbt_project
from orchestration.defs.resources import (
    WAREHOUSE_POOL,
    StiggWarehouseResource,
    is_full_refresh,
)
from orchestration.services import build_state, warehouse
from orchestration.settings import DBT_DATABASE_ENV, DUCKDB_MEMORY_LIMIT_ENV

ROW_COUNT_LOG_PREFIX = "stigg_row_count="


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

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """dagster-dbt's metadata, with NOT NULL columns marked and the name analysts query."""
        metadata = dict(super().get_metadata(dbt_resource_props))
        schema = metadata.get("dagster/column_schema")
        if schema is not None:
            columns = dbt_resource_props["columns"]
            metadata["dagster/column_schema"] = dg.TableSchema(
                columns=[
                    dg.TableColumn(
                        name=column.name,
                        type=column.type,
                        description=column.description,
                        tags=column.tags,
                        constraints=dg.TableColumnConstraints(
                            nullable=not _is_not_null(columns.get(column.name, {}))
                        ),
                    )
                    for column in schema.columns
                ]
            )
        if dbt_resource_props["resource_type"] != "source":
            # The database name is the build file's; analysts open the published file.
            metadata["dagster/table_name"] = ".".join(self.get_asset_key(dbt_resource_props).path)
        return metadata


def _is_not_null(column: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "not_null" for c in column.get("constraints", []))


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
    # Only a build of every model records its input, and only then can the next one be skipped.
    whole_project = context.selected_asset_keys == set(context.assets_def.keys)
    with warehouse.connect(settings.build_path, read_only=True) as con:
        fingerprint = build_state.input_fingerprint(con)
        built = build_state.recorded_fingerprint(con)
    # Skipping dbt skips publishing too (Dagster skips what depends on a skipped step), so skip
    # only when the published file is this build: not after a run that was killed before it
    # published.
    published = build_state.file_fingerprint(settings.warehouse_path)
    if whole_project and fingerprint == built == published and not is_full_refresh(context.run):
        context.log.info(
            "Nothing new since the published build (export files and dbt project): dbt skipped"
        )
        return
    with _environment(
        **{
            DBT_DATABASE_ENV: str(settings.build_path),
            DUCKDB_MEMORY_LIMIT_ENV: settings.duckdb_memory_limit,
        }
    ):
        full_refresh = ["--full-refresh"] if is_full_refresh(context.run) else []
        invocation = dbt.cli(["build", *full_refresh], context=context, raise_on_error=False)
    row_counts: dict[str, int] = {}
    for dbt_event in invocation.stream_raw_events():
        unique_id = dbt_event.raw_event["data"].get("node_info", {}).get("unique_id")
        row_count = _reported_row_count(dbt_event.raw_event)
        if row_count is not None:
            row_counts[unique_id] = row_count
            continue
        for event in dbt_event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if isinstance(event, dg.Output) and unique_id in row_counts:
                event = event.with_metadata(
                    {**event.metadata, "dagster/row_count": row_counts[unique_id]}
                )
            yield event
    if invocation.is_successful() and whole_project:
        with warehouse.connect(settings.build_path) as con:
            build_state.record_fingerprint(con, fingerprint)
    else:
        errors = _dbt_errors(invocation.get_artifact("run_results.json"))
        raise dg.Failure(
            description="\n".join(
                ["dbt build failed (failed checks are listed with this run's checks)", *errors]
            ),
            metadata={"dbt_exit_code": invocation.process.returncode},
        )


def _dbt_errors(run_results: Mapping[str, Any]) -> list[str]:
    """The nodes that dbt could not build, each with dbt's message."""
    return [
        f"{result['unique_id']}: {(result.get('message') or '').strip()}"
        for result in run_results.get("results", [])
        if result.get("status") == "error"
    ]


def _reported_row_count(raw_event: Mapping[str, Any]) -> int | None:
    """The count that macros/stigg_report_row_count.sql logged, if this event is that log line."""
    info = raw_event["info"]
    if info["name"] != "JinjaLogInfo" or not info["msg"].startswith(ROW_COUNT_LOG_PREFIX):
        return None
    return int(info["msg"].removeprefix(ROW_COUNT_LOG_PREFIX))
