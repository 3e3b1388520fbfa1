"""Group `publish`: the working copy becomes the analysts' warehouse, atomically."""

import dagster as dg

from orchestration.defs.landing import RAW_ASSET_KEYS
from orchestration.defs.resources import StiggWarehouse
from orchestration.defs.transform import stigg_dbt_models
from orchestration.runtime.engines import duckdb as engine


@dg.asset(
    key=["warehouse", "published"],
    group_name="publish",
    kinds={"duckdb"},
    deps=[*stigg_dbt_models.keys, *RAW_ASSET_KEYS],
    description=(
        "The published warehouse at STIGG_WAREHOUSE_PATH: a checkpointed copy of the run's "
        "working copy, renamed into place once every build of the run has succeeded. A run "
        "with nothing new skips dbt, and Dagster skips publishing with it."
    ),
)
def published_warehouse(warehouse: StiggWarehouse) -> dg.MaterializeResult:
    result = engine.publish(warehouse.settings())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "size_bytes": result.size_bytes,
            "publish_seconds": round(result.seconds, 3),
        }
    )
