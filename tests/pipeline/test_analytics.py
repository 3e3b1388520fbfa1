"""The analytics schema on the sample export: the models, the MRR reconciliation, the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.support.browser import CHROMIUM_ARGS, debian_chromium
from tests.support.paths import SCREENSHOTS
from tests.support.runs import run_cli, run_dbt
from tests.support.warehouse import ANALYTICS_MODELS, query


@pytest.mark.slow
def test_every_analytics_model_is_built_with_rows(sample_warehouse):
    path, _ = sample_warehouse
    for model in ANALYTICS_MODELS:
        [(rows,)] = query(path, f"select count(*) from analytics.{model}")
        assert rows > 0, model


@pytest.mark.slow
def test_history_keeps_changes_that_the_current_state_has_lost(sample_warehouse):
    """The sample's trials convert and subscriptions cancel between transfers: those records
    have more than one state, and the current states are exactly stigg.SUBSCRIPTIONS."""
    path, _ = sample_warehouse
    [(states, current, changed)] = query(
        path,
        "select count(*), count(*) filter (where is_current), "
        "count(distinct ID) filter (where state_number > 1) from analytics.subscription_history",
    )
    [(subscriptions,)] = query(path, "select count(*) from stigg.SUBSCRIPTIONS")
    assert current == subscriptions
    assert changed > 0 and states > subscriptions
    [(trials_seen,)] = query(
        path,
        "select count(distinct ID) from analytics.subscription_history "
        "where STATUS = 'IN_TRIAL' and not is_current",
    )
    [(converted,)] = query(path, "select sum(converted) from analytics.trial_conversion")
    assert trials_seen > 0 and converted > 0


def _reconcile(database: Path, tmp_path: Path) -> tuple[str, int | None]:
    """Runs only the MRR movement reconciliation test against `database`: (status, failures)."""
    result = run_dbt(
        ["test", "--select", "test_name:stigg_mrr_movements_reconcile"], database, tmp_path
    )
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    [outcome] = [r for r in results if r["unique_id"].startswith("test.")]
    assert (result.returncode == 0) == (outcome["status"] == "pass"), result.stdout
    return outcome["status"], outcome["failures"]


BREAKING_FIXTURES = {
    # A month's closing no longer equals opening + movements, and the next month opens from
    # the true closing: two rows fail.
    "closing_off_by_one": (
        "update analytics.mrr_movements set closing_mrr = closing_mrr + 1 "
        "where month = (select min(month) from analytics.mrr_movements) "
        "and environment_id = (select min(environment_id) from analytics.mrr_movements) "
        "and currency = 'USD'",
        2,
    ),
    # A month's churn is dropped: that month no longer adds up, and its closing no longer
    # matches mrr_monthly.
    "churn_missing": (
        "update analytics.mrr_movements set churn_mrr = 0 "
        "where month = (select max(month) from analytics.mrr_movements) "
        "and environment_id = (select min(environment_id) from analytics.mrr_movements) "
        "and currency = 'USD'",
        1,
    ),
    # A whole month is missing: MRR in mrr_monthly with no movements row, and the month after
    # opens from nothing.
    "month_missing": (
        "delete from analytics.mrr_movements "
        "where month = (select min(month) from analytics.mrr_movements) "
        "and environment_id = (select min(environment_id) from analytics.mrr_movements) "
        "and currency = 'USD'",
        2,
    ),
}


@pytest.mark.slow
def test_mrr_movements_reconcile_on_the_sample(sample_warehouse, tmp_path):
    path, _ = sample_warehouse
    copy = tmp_path / "copy.duckdb"
    shutil.copy(path, copy)
    assert _reconcile(copy, tmp_path) == ("pass", 0)


@pytest.mark.slow
@pytest.mark.ci
@pytest.mark.parametrize("fixture", sorted(BREAKING_FIXTURES))
def test_mrr_movements_reconciliation_fails_on_a_fixture_that_breaks_it(
    sample_warehouse, tmp_path, fixture
):
    path, _ = sample_warehouse
    copy = tmp_path / "broken.duckdb"
    shutil.copy(path, copy)
    statement, failing_rows = BREAKING_FIXTURES[fixture]
    with duckdb.connect(str(copy)) as con:
        con.execute("set TimeZone = 'UTC'")
        changed = con.execute(statement).fetchone()[0]
    assert changed == 1
    assert _reconcile(copy, tmp_path) == ("fail", failing_rows)


@pytest.mark.slow
def test_report_renders_non_empty_charts_in_headless_chromium(sample_warehouse, tmp_path):
    from playwright.sync_api import sync_playwright

    _, env = sample_warehouse
    out = tmp_path / "report.html"
    result = run_cli(["report", "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert "12 of 12 charts with data, 2 environment(s)" in result.stdout
    html = out.read_text()
    assert "<script" not in html and "http" not in html.replace(
        "<!doctype html>", ""
    )  # self-contained
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=debian_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1560, "height": 1000})
            page.goto(out.as_uri())
            charts = page.locator("figure.chart")
            assert charts.count() == 12
            titles = set(page.locator("figcaption").all_inner_texts())
            assert {
                "MRR by currency (closing, per month)",
                "MRR movements per month (USD)",
                "MRR movements per month (EUR)",
                "Subscriptions by plan and status (now)",
                "Usage events per day, by event name",
                "Metered entitlements by utilisation of their limit",
            } <= titles
            for i in range(charts.count()):
                chart = charts.nth(i)
                caption = chart.locator("figcaption").inner_text()
                svg = chart.locator("svg")
                box = svg.bounding_box()
                assert box and box["width"] > 300 and box["height"] > 150, caption
                # Marks the browser laid out with a real size: bars and points, not just axes.
                drawn = svg.evaluate(
                    "svg => [...svg.querySelectorAll('rect, circle')]"
                    ".filter(e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; })"
                    ".length"
                )
                assert drawn == int(chart.get_attribute("data-marks")) > 0, caption
            at_risk = page.locator("table.at-risk tr")
            assert at_risk.count() == 2 * 11  # a header and the top 10, per environment
            page.screenshot(path=SCREENSHOTS / "analytics-report.png", full_page=True)
        finally:
            browser.close()
    assert (SCREENSHOTS / "analytics-report.png").stat().st_size > 50_000


def test_report_without_a_warehouse_says_so(tmp_path, pipeline_env):
    result = run_cli(["report"], pipeline_env)
    assert result.returncode == 1
    assert "No published warehouse at" in result.stderr
    assert "run `stigg-warehouse run` first" in result.stderr


def test_charts_count_their_marks_and_say_when_there_is_no_data():
    from orchestration.report.charts import _ticks, bar_chart, line_chart

    empty = bar_chart("Nothing", ["2025-01"], {"new": [0.0]})
    assert 'data-marks="0"' in empty and "No data." in empty and "<svg" not in empty
    assert 'data-marks="0"' in line_chart("Nothing", ["a"], {"x": [None]})
    # Stacked bars: positives pile up from 0, negatives go below it; zeros draw nothing.
    movements = bar_chart("MRR", ["Jan", "Feb"], {"new": [10.0, 5.0], "churn": [0.0, -3.0]})
    assert 'data-marks="3"' in movements and movements.count("<rect") == 3
    assert _ticks(-6532, 20860) == [-10000, 0, 10000, 20000, 30000]
    assert _ticks(0, 0.5) == [0, 0.1, 0.2, 0.3, 0.4, 0.5]


@pytest.mark.slow
@pytest.mark.ci
def test_materializing_the_report_alone_takes_no_writer_lock(sample_warehouse, tmp_path):
    """While another process holds the warehouse's writer lock (a run in progress), the report
    asset alone still materializes: it reads the published file through the read-only resource."""
    import subprocess
    import sys

    from orchestration.runtime import writer
    from orchestration.settings import PROJECT_ROOT, Settings

    path, env = sample_warehouse
    lock = Settings.from_env({}, warehouse_path=str(path)).lock_path
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\nfrom pathlib import Path\nfrom orchestration.runtime import writer\n"
            "with writer.hold(Path(sys.argv[1]), 'a run in progress'):\n"
            "    print('held', flush=True)\n    time.sleep(600)\n"
        ), str(lock)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        report_only = (
            "import dagster as dg\n"
            "from orchestration.definitions import defs\n"
            "job = defs().resolve_job_def('stigg_elt')\n"
            "with dg.instance_for_test() as instance:\n"
            "    result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(['analytics', 'report'])])\n"
            "    print('materialized', [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()])\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", report_only],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert "materialized ['analytics/report']" in result.stdout
        assert writer.is_held(lock)  # the other process held it throughout
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_the_hand_worked_unit_tests_pass(sample_warehouse, tmp_path):
    """dbt's unit tests (their inputs need the built relations), which pipeline runs leave out."""
    path, _ = sample_warehouse
    copy = tmp_path / "copy.duckdb"
    shutil.copy(path, copy)
    result = run_dbt(["test", "--select", "test_type:unit"], copy, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 13 and {r["status"] for r in unit_tests} == {"pass"}
