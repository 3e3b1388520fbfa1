"""A standing check on every documented table: each raw row is in the table, superseded,
an identical repeat, or rejected, with the four numbers as the check's metadata."""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_POOL, StiggWarehouseResource
from orchestration.services import warehouse
from orchestration.services.reconciliation import reconcile
from orchestration.stigg_spec import TABLES

RECONCILIATION_CHECK = "raw_rows_reconcile"


def _documented_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["stigg", name])


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            RECONCILIATION_CHECK,
            asset=_documented_key(t.name),
            description=(
                "raw rows = rows in this table + superseded versions + identical repeats + "
                "rejected rows; the numbers are in the metadata."
            ),
        )
        for t in TABLES
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def raw_rows_reconcile(
    context: dg.AssetCheckExecutionContext, stigg: StiggWarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    settings = stigg.settings()
    with warehouse.connect(
        settings.build_path, read_only=True, memory_limit=settings.duckdb_memory_limit
    ) as con:
        for table in TABLES:
            key = _documented_key(table.name)
            if key not in selected:
                continue
            numbers = reconcile(con, table)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=RECONCILIATION_CHECK,
                passed=numbers.balances,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    f"{numbers.raw_rows} raw = {numbers.current_rows} in the table + "
                    f"{numbers.superseded_rows} superseded + {numbers.repeated_rows} repeats + "
                    f"{numbers.rejected_rows} rejected"
                ),
                metadata=numbers.as_metadata(),
            )
