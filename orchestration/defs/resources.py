"""The resources every asset shares, and the one pool that every warehouse writer is in."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt_project import stigg_dbt_project
from orchestration.settings import PROJECT_ROOT, Settings

# DuckDB allows one writer: every asset that writes the warehouse runs in this pool (limit 1).
WAREHOUSE_POOL = "stigg_warehouse"


class StiggWarehouseResource(dg.ConfigurableResource):
    """Where the export is read from and the warehouse is written to.

    Unset fields fall back to STIGG_EXPORT_URI and STIGG_WAREHOUSE_PATH, read when a run starts.
    """

    export_uri: str | None = None
    warehouse_path: str | None = None

    def settings(self) -> Settings:
        env = Settings.from_env()
        overrides = {}
        if self.export_uri:
            overrides["STIGG_EXPORT_URI"] = self.export_uri
        if self.warehouse_path:
            overrides["STIGG_WAREHOUSE_PATH"] = self.warehouse_path
        if not overrides:
            return env
        return Settings.from_env(
            {
                "STIGG_EXPORT_URI": env.export_uri,
                "STIGG_WAREHOUSE_PATH": str(env.warehouse_path),
                "STIGG_DUCKDB_MEMORY_LIMIT": env.duckdb_memory_limit or "",
                **overrides,
            }
        )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "stigg": StiggWarehouseResource(),
            "dbt": DbtCliResource(project_dir=stigg_dbt_project, profiles_dir=str(PROJECT_ROOT)),
        }
    )
