"""Group `publish`: the working copy becomes the analysts' warehouse, atomically."""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.landing import RAW_ASSET_KEYS
from orchestration.defs.resources import WAREHOUSE_POOL, StiggWarehouseResource
from orchestration.defs.transform import stigg_dbt_models
from orchestration.services import build_state, warehouse


@dg.asset(
    key=["warehouse", "published"],
    group_name="publish",
    kinds={"duckdb"},
    deps=[*stigg_dbt_models.keys, *RAW_ASSET_KEYS],
    pool=WAREHOUSE_POOL,
    output_required=False,
    description=(
        "The published warehouse at STIGG_WAREHOUSE_PATH: a checkpointed copy of the run's "
        "working copy, renamed into place once every build of the run has succeeded. Not "
        "materialized when the working copy was built from the same input as the published file."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, stigg: StiggWarehouseResource
) -> Iterator[dg.MaterializeResult]:
    settings = stigg.settings()
    built = build_state.file_fingerprint(settings.build_path)
    if built is not None and built == build_state.file_fingerprint(settings.warehouse_path):
        context.log.info("The published warehouse was built from the same input: not copied again")
        return
    result = warehouse.publish(settings)
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "size_bytes": result.size_bytes,
            "publish_seconds": round(result.seconds, 3),
        }
    )
