"""Group `analytics`: the HTML report, written from the published warehouse after each publish."""

import dagster as dg

from orchestration.defs.publish import published_warehouse
from orchestration.defs.resources import PublishedWarehouse
from orchestration.report.page import write_report


@dg.asset(
    key=["analytics", "report"],
    group_name="analytics",
    kinds={"html"},
    deps=[published_warehouse],
    description=(
        "The analytics report (`stigg-warehouse report`): one self-contained HTML page with MRR "
        "and its movements, subscriptions by plan and status, daily usage, the utilisation "
        "distribution and the customers closest to their limits. It reads the published "
        "warehouse read-only, as an analyst does: it never takes the writer lock (with Spark, "
        "the published views through Spark Connect)."
    ),
)
def analytics_report(published: PublishedWarehouse) -> dg.MaterializeResult:
    report = write_report(published.reader(), published.report_path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.report_path)),
            "charts": report.charts,
            "charts_with_data": report.charts_with_data,
            "environments": report.environments,
        }
    )


@dg.definitions
def report() -> dg.Definitions:
    return dg.Definitions(assets=[analytics_report])
