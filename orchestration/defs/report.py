"""Group `analytics`: the HTML report, written from the published warehouse after each publish."""

import dagster as dg

from orchestration.defs.publish import published_warehouse
from orchestration.defs.resources import StiggWarehouseResource
from orchestration.services.report import write_report


@dg.asset(
    key=["analytics", "report"],
    group_name="analytics",
    kinds={"html"},
    deps=[published_warehouse],
    description=(
        "The analytics report (`stigg-warehouse report`): one self-contained HTML page with MRR "
        "and its movements, subscriptions by plan and status, daily usage, the utilisation "
        "distribution and the customers closest to their limits. It reads the published "
        "warehouse read-only, so it needs no writer slot."
    ),
)
def analytics_report(stigg: StiggWarehouseResource) -> dg.MaterializeResult:
    settings = stigg.settings()
    report = write_report(settings.warehouse_path, settings.report_path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.report_path)),
            "charts": report.charts,
            "charts_with_data": report.charts_with_data,
            "environments": report.environments,
        }
    )
