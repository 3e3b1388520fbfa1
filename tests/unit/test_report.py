"""The report's size does not grow with the account: the most used event names and the largest
plans are drawn, the rest folded into one series; currencies beyond a few are named, not drawn."""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.report.page import OTHER, TOP_CURRENCIES, TOP_PLANS, TOP_SERIES, build_report


def _warehouse(names: int, plans: int, currencies: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema stigg; create schema analytics")
    con.execute(
        f"""create table analytics.usage_daily as
            select 'env' as environment_id, 'c' || (i % 50) as customer_id,
                   'event_' || (i % {names}) as event_name,
                   date '2025-01-01' + (i % 30)::int as event_date, 1 + i % 7 as events
            from range({max(names, 1000) * 3}) t(i)"""
    )
    con.execute(
        f"""create table stigg.SUBSCRIPTIONS as
            select 'env' as ENVIRONMENT_ID, 'plan_' || (i % {plans}) as PLAN_ID,
                   ['ACTIVE', 'CANCELED', 'IN_TRIAL'][1 + i % 3] as STATUS
            from range({max(plans, 1000) * 2}) t(i)"""
    )
    con.execute(
        f"""create table analytics.mrr_movements as
            select date '2025-01-01' + to_months(m) as month, 'env' as environment_id,
                   'C' || c as currency, 100.0 * (c + 1) as closing_mrr, 1.0 as new_mrr,
                   0.0 as expansion_mrr, 0.0 as reactivation_mrr, 0.0 as contraction_mrr,
                   0.0 as churn_mrr
            from range(6) m(m), range({currencies}) k(c)"""
    )
    con.execute(
        """create table analytics.entitlement_utilization as
           select 'env' as environment_id, 'c1' as customer_id, 'f' as feature_id,
                  90 as current_usage, 100 as usage_limit, 90.0 as utilization_pct,
                  true as is_near_limit, '80-100%' as utilization_band"""
    )
    return con


def _series_in(html: str, title: str) -> int:
    figure = html[html.index(title) :]
    figure = figure[: figure.index("</figure>")]
    return len(re.findall(r'class="legend-item"|<span><i ', figure))


@pytest.mark.parametrize("size", [10, 100_000])
def test_charts_show_the_top_series_and_fold_the_rest(size):
    html = build_report(_warehouse(names=size, plans=size, currencies=3)).html
    usage_legend = _series_in(html, "Usage events per day")
    assert usage_legend == min(size, TOP_SERIES) + (1 if size > TOP_SERIES else 0)
    if size > TOP_SERIES:
        assert OTHER in html and f"the {TOP_SERIES} most used" in html
    plans = re.search(r"Subscriptions by plan and status.*?</figure>", html, re.S).group(0)
    assert len(set(re.findall(r"plan_\d+", plans))) == min(size, TOP_PLANS)


def test_the_page_does_not_grow_with_event_names_or_plans():
    small = build_report(_warehouse(names=10, plans=10, currencies=3)).html
    large = build_report(_warehouse(names=100_000, plans=100_000, currencies=3)).html
    assert len(large) < 2 * len(small) + 50_000


def test_currencies_beyond_a_few_are_named_not_drawn():
    report = build_report(_warehouse(names=5, plans=5, currencies=TOP_CURRENCIES + 3))
    assert "3 more currencies not shown" in report.html
    assert report.html.count("<figcaption>MRR movements per month (") == TOP_CURRENCIES
