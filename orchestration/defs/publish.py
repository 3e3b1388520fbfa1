"""Group `publish`: the working copy becomes the analysts' warehouse, atomically."""

import dagster as dg

from orchestration.defs.landing import ENGINE_KINDS, RAW_ASSET_KEYS
from orchestration.defs.resources import StiggWarehouse
from orchestration.defs.transform import stigg_dbt_models
from orchestration.runtime import disk_space


@dg.asset(
    key=["warehouse", "published"],
    group_name="publish",
    kinds=ENGINE_KINDS,
    deps=[*stigg_dbt_models.keys, *RAW_ASSET_KEYS],
    description=(
        "The published warehouse. DuckDB: the file at STIGG_WAREHOUSE_PATH: the run's working "
        "copy, checkpointed and renamed into place once every build of the run has "
        "succeeded. Spark: the views of staging, stigg, rejects, analytics and meta, switched "
        "to the build slot the run built. A run with nothing new skips dbt, and Dagster skips "
        "publishing with it."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: StiggWarehouse
) -> dg.MaterializeResult:
    try:
        metadata = warehouse.run_engine().publish(context.run.run_id)
    except OSError as exc:
        if disk_space.is_disk_full(exc):
            raise warehouse.disk_full(exc, "publishing") from None
        raise
    if "path" in metadata:
        metadata["path"] = dg.MetadataValue.path(metadata["path"])
    return dg.MaterializeResult(metadata=metadata)


@dg.definitions
def publishing() -> dg.Definitions:
    return dg.Definitions(assets=[published_warehouse])
