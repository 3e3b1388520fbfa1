"""The dbt project's models as assets (groups staging, stigg, rejects, meta, analytics), built
into the run's working copy."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt_project import adopt_parse, invocation_target, stigg_dbt_project
from orchestration.defs.resources import StiggWarehouse, is_full_refresh
from orchestration.registry import ENGINES
from orchestration.runtime import dbt_build, disk_space, writer


class StiggDbtTranslator(DagsterDbtTranslator):
    """Asset keys are <schema>/<table>, as analysts see them; groups follow the model folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
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


@dbt_assets(
    manifest=stigg_dbt_project.manifest_path,
    project=stigg_dbt_project,
    dagster_dbt_translator=StiggDbtTranslator(),
)
def stigg_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: StiggWarehouse
) -> Iterator:
    settings = warehouse.settings()
    engine = warehouse.run_engine()
    full_refresh = is_full_refresh(context.run)
    # Only a build of every model records its input, and only then can the next one be skipped.
    whole_project = context.selected_asset_keys == set(context.assets_def.keys)
    build_input = engine.build_input()
    if whole_project and build_input.unchanged and not full_refresh:
        context.log.info(
            "Nothing new since the published build (export files and dbt project): dbt skipped"
        )
        return
    invocation = dbt.cli(
        dbt_build.dbt_build_args(
            settings,
            engine.dbt_vars(),
            target=engine.dbt_target,
            full_refresh=full_refresh,
            largest_raw_rows=build_input.largest_raw_rows,
        ),
        context=context,
        raise_on_error=False,
        target_path=invocation_target(settings, f"{context.op_def.name}-{context.run.run_id[:7]}"),
    )
    writer.record_builder(settings.builder_pid_path, invocation.process.pid)
    yield from _events_with_metadata(context, invocation)
    writer.clear_builder(settings.builder_pid_path)
    adopt_parse(invocation.target_path, settings.dbt_target_dir)
    dbt_build.prune_invocation_targets(settings.dbt_target_dir, context.op_def.name)
    if not invocation.is_successful():
        run_results = invocation.get_artifact("run_results.json")
        errors = dbt_build.dbt_errors(run_results)
        if full := next((e for e in errors if disk_space.says_disk_full(e)), None):
            raise warehouse.disk_full(RuntimeError(full.split(": ", 1)[-1]), "the dbt build")
        raise dg.Failure(
            description=dbt_build.failure_description(run_results),
            metadata={"dbt_exit_code": invocation.process.returncode},
        )
    if whole_project:
        engine.record_build(build_input.fingerprint)


def _events_with_metadata(context: dg.AssetExecutionContext, invocation) -> Iterator:
    """dagster-dbt's events, with the row counts (and USAGE_EVENTS' per-environment tables) that
    the project's macros log as each model is built: the working copy stays dbt's alone."""
    extra: dict[str, dict[str, Any]] = {}
    for dbt_event in invocation.stream_raw_events():
        node = dbt_build.node_of(dbt_event.raw_event)
        row_count = dbt_build.reported_row_count(dbt_event.raw_event)
        environment_tables = dbt_build.reported_environment_tables(dbt_event.raw_event)
        if row_count is not None:
            extra.setdefault(node, {})["dagster/row_count"] = row_count
            continue
        if environment_tables is not None:
            extra.setdefault(node, {})["environment_tables"] = dg.MetadataValue.json(
                environment_tables
            )
            continue
        for event in dbt_event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if isinstance(event, dg.Output) and node in extra:
                event = event.with_metadata({**event.metadata, **extra.pop(node)})
            yield event


# meta.dbt_processed_loads: which loads each incremental table has taken in. dbt writes it (the
# project's on-run-start hook creates it, the incremental models' post-hooks fill it) and reads
# it as a source; this spec names it in the graph.
processed_loads = dg.AssetSpec(
    key=["meta", "dbt_processed_loads"],
    group_name="meta",
    kinds={"dbt", *ENGINES},
    description=(
        "Which loads (landing runs) each incremental table has taken in: written by the dbt "
        "project's hooks (macros/stigg/incremental.sql) as each incremental model is built."
    ),
)


@dg.definitions
def dbt_models() -> dg.Definitions:
    return dg.Definitions(assets=[stigg_dbt_models, processed_loads])
