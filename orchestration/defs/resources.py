"""The resources every asset shares, and the one pool that every warehouse writer is in."""

from dataclasses import replace
from pathlib import Path

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
        settings = Settings.from_env()
        if self.export_uri:
            settings = replace(settings, export_uri=self.export_uri)
        if self.warehouse_path:
            settings = replace(settings, warehouse_path=Path(self.warehouse_path).absolute())
        return settings


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "stigg": StiggWarehouseResource(),
            "dbt": DbtCliResource(project_dir=stigg_dbt_project, profiles_dir=str(PROJECT_ROOT)),
        }
    )
