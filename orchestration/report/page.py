"""The analytics report: one self-contained HTML page of charts over the published warehouse.

Per environment: MRR per currency over time, MRR movements per month, active subscriptions by
plan and status, usage events per day, the utilisation distribution and the customers closest to
their limits. Everything is read from the `analytics` and `stigg` schemas, read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb

from orchestration.report.charts import PALETTE, bar_chart, line_chart
from orchestration.runtime.engines.base import Engine
from orchestration.spec.tables import SUBSCRIPTIONS

MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
MOVEMENT_COLORS = {
    "new": "#3867d6",
    "expansion": "#20bf6b",
    "reactivation": "#0fb9b1",
    "contraction": "#fa8231",
    "churn": "#eb3b5a",
}
# One colour per status, the same in every environment's chart.
STATUS_COLORS = dict(zip(SUBSCRIPTIONS.column("STATUS").enum or (), PALETTE, strict=False))
UTILIZATION_BANDS = ("0-50%", "50-80%", "80-100%", "100%+", "unlimited")
AT_RISK_ROWS = 10
# The page's size does not grow with the account: a chart shows the largest series (event names,
# plans) and folds the rest into one; currencies are never added up, so the rest are named only.
TOP_SERIES = 7
TOP_PLANS = 12
TOP_CURRENCIES = 4
OTHER = "all others"

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; padding: 12px; border: 1px solid #e5e5e5; border-radius: 6px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.legend span { margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left; }
td.number { text-align: right; } .empty { color: #888; } .meta { color: #666; }
"""


@dataclass(frozen=True)
class Report:
    html: str
    charts: int
    charts_with_data: int
    environments: int


def build_report(con: duckdb.DuckDBPyConnection, title: str = "Stigg warehouse report") -> Report:
    environments = [
        row[0]
        for row in con.sql(
            "select distinct ENVIRONMENT_ID from stigg.SUBSCRIPTIONS "
            "union select distinct environment_id from analytics.usage_daily order by 1"
        ).fetchall()
    ]
    sections = [_environment_section(con, environment) for environment in environments]
    figures = [figure for section in sections for figure in section[1]]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(
        f"<section><h2>Environment {escape(environment)}</h2>"
        f'<div class="grid">{"".join(charts)}</div>{table}</section>'
        for environment, (table, charts) in zip(environments, sections, strict=True)
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">Generated {generated} from the published warehouse. Amounts are per '
        "currency and never added across currencies; how MRR is counted is in the dbt docs "
        "(mrr_monthly).</p>"
        + (body or '<p class="empty">The warehouse has no subscriptions or usage yet.</p>')
        + "</body></html>"
    )
    return Report(
        html=html,
        charts=len(figures),
        charts_with_data=sum('data-marks="0"' not in figure for figure in figures),
        environments=len(environments),
    )


# What the page reads: an engine whose warehouse is not a DuckDB file (Spark) extracts these into
# an in-memory DuckDB database (Engine.published_tables), and the same queries build the page.
REPORT_TABLES = (
    "stigg.SUBSCRIPTIONS",
    "analytics.usage_daily",
    "analytics.mrr_movements",
    "analytics.entitlement_utilization",
)


def write_report(engine: Engine, out: Path) -> Report:
    """Reads the published warehouse read-only, through `engine`, and writes the page atomically."""
    with engine.published_tables(REPORT_TABLES) as con:
        report = build_report(con)
    _write_atomically(report, out)
    return report


def _write_atomically(report: Report, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(report.html, encoding="utf-8")
    partial.replace(out)


def _environment_section(con: duckdb.DuckDBPyConnection, environment: str) -> tuple[str, list[str]]:
    charts = [
        *_mrr_charts(con, environment),
        _subscriptions_chart(con, environment),
        _usage_chart(con, environment),
        _utilization_chart(con, environment),
    ]
    return _at_risk_table(con, environment), charts


def _mrr_charts(con: duckdb.DuckDBPyConnection, environment: str) -> list[str]:
    currencies = [
        row[0]
        for row in con.execute(
            "select currency from analytics.mrr_movements where environment_id = ? "
            "group by currency order by max(closing_mrr) desc, currency",
            [environment],
        ).fetchall()
    ]
    shown, hidden = currencies[:TOP_CURRENCIES], currencies[TOP_CURRENCIES:]
    rows = con.execute(
        "select strftime(month, '%Y-%m'), currency, closing_mrr, new_mrr, expansion_mrr, "
        "reactivation_mrr, contraction_mrr, churn_mrr "
        "from analytics.mrr_movements where environment_id = ? and list_contains(?, currency) "
        "order by 1, 2",
        [environment, shown],
    ).fetchall()
    months = sorted({row[0] for row in rows})
    by_key = {(row[0], row[1]): row for row in rows}
    mrr_series = {
        currency: [
            float(by_key[(m, currency)][2]) if (m, currency) in by_key else None for m in months
        ]
        for currency in shown
    }
    more = f"; {len(hidden)} more currencies not shown" if hidden else ""
    charts = [line_chart(f"MRR by currency (closing, per month{more})", months, mrr_series)]
    for currency in shown or [""]:
        movement_series = {
            name: [
                float(by_key[(m, currency)][3 + i]) if (m, currency) in by_key else 0.0
                for m in months
            ]
            for i, name in enumerate(MOVEMENTS)
        }
        charts.append(
            bar_chart(
                f"MRR movements per month ({currency or 'no MRR'})",
                months,
                movement_series,
                colors=MOVEMENT_COLORS,
            )
        )
    return charts


def _subscriptions_chart(con: duckdb.DuckDBPyConnection, environment: str) -> str:
    rows = con.execute(
        f"""
        with per_plan as (
            select PLAN_ID, STATUS, count(*) as subscriptions
            from stigg.SUBSCRIPTIONS where ENVIRONMENT_ID = $environment group by all
        ),
        ranked as (
            select PLAN_ID, row_number() over (order by sum(subscriptions) desc, PLAN_ID) as rank
            from per_plan group by PLAN_ID
        )
        select case when rank <= {TOP_PLANS} then PLAN_ID else '{OTHER}' end, STATUS,
               sum(subscriptions)
        from per_plan join ranked using (PLAN_ID)
        group by all order by min(rank), 2
        """,
        {"environment": environment},
    ).fetchall()
    plans, series = _pivot(rows, keep_order=True)
    title = "Subscriptions by plan and status (now"
    title += f"; the {TOP_PLANS} largest plans)" if OTHER in plans else ")"
    return bar_chart(title, plans, series, colors=STATUS_COLORS)


def _usage_chart(con: duckdb.DuckDBPyConnection, environment: str) -> str:
    rows = con.execute(
        f"""
        with per_day as (
            select event_date, event_name, sum(events) as events
            from analytics.usage_daily where environment_id = $environment group by all
        ),
        ranked as (
            select event_name, row_number() over (order by sum(events) desc, event_name) as rank
            from per_day group by event_name
        )
        select strftime(event_date, '%Y-%m-%d'),
               case when rank <= {TOP_SERIES} then event_name else '{OTHER}' end, sum(events)
        from per_day join ranked using (event_name)
        group by all order by 1, 2
        """,
        {"environment": environment},
    ).fetchall()
    days, series = _pivot(rows)
    title = "Usage events per day, by event name"
    if OTHER in series:
        title += f" (the {TOP_SERIES} most used)"
    return line_chart(title, days, series)


def _utilization_chart(con: duckdb.DuckDBPyConnection, environment: str) -> str:
    rows = dict(
        con.execute(
            "select utilization_band, count(*) from analytics.entitlement_utilization "
            "where environment_id = ? group by all",
            [environment],
        ).fetchall()
    )
    return bar_chart(
        "Metered entitlements by utilisation of their limit",
        list(UTILIZATION_BANDS),
        {"entitlements": [float(rows.get(band, 0)) for band in UTILIZATION_BANDS]},
        colors={"entitlements": "#8854d0"},
    )


def _at_risk_table(con: duckdb.DuckDBPyConnection, environment: str) -> str:
    rows = con.execute(
        "select customer_id, feature_id, current_usage, usage_limit, utilization_pct "
        "from analytics.entitlement_utilization "
        "where environment_id = ? and is_near_limit "
        "order by utilization_pct desc nulls last, current_usage desc, customer_id, feature_id "
        f"limit {AT_RISK_ROWS}",
        [environment],
    ).fetchall()
    if not rows:
        return '<h3>Customers closest to their limits</h3><p class="empty">None at 80% or more.</p>'
    body = "".join(
        f"<tr><td>{escape(str(customer))}</td><td>{escape(str(feature))}</td>"
        f'<td class="number">{_plain(usage)}</td><td class="number">{_plain(limit)}</td>'
        f'<td class="number">{_plain(pct)}%</td></tr>'
        for customer, feature, usage, limit, pct in rows
    )
    return (
        f"<h3>Customers closest to their limits (top {AT_RISK_ROWS}, at 80% or more)</h3>"
        '<table class="at-risk"><tr><th>customer</th><th>feature</th><th>usage</th>'
        f"<th>limit</th><th>utilisation</th></tr>{body}</table>"
    )


def _pivot(rows: list[tuple], keep_order: bool = False) -> tuple[list[str], dict[str, list[float]]]:
    """(label, series, value) rows as labels (sorted, or in the rows' order) and one value per
    label for each series."""
    labels = (
        list(dict.fromkeys(row[0] for row in rows))
        if keep_order
        else sorted({row[0] for row in rows})
    )
    values = {(row[0], row[1]): float(row[2]) for row in rows}
    names = sorted({row[1] for row in rows})
    return labels, {name: [values.get((label, name), 0.0) for label in labels] for name in names}


def _plain(value) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
