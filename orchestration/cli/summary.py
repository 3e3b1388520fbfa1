"""What a pipeline run did, read from its Dagster events, for the CLI's summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

FRESHNESS_CHECK = "freshness_check"  # the name Dagster's freshness check factory gives
# The dbt test on each documented table that reads its row of meta.reconciliation.
RECONCILIATION_CHECK_PREFIX = "stigg_reconciles_with_raw_"


@dataclass
class RunSummary:
    success: bool
    landed: dict[str, tuple[int, int]] = field(default_factory=dict)  # model -> (files, rows)
    # With STIGG_SOURCE=api: model -> pages, listed, changed, gone (raw assets' api_* metadata)
    pulled: dict[str, dict[str, int]] = field(default_factory=dict)
    failed_files: list[str] = field(default_factory=list)
    unlisted_models: list[str] = field(default_factory=list)  # "model: why its listing failed"
    dbt_tests: dict[str, int] = field(
        default_factory=lambda: {"passed": 0, "failed": 0, "warned": 0}
    )
    landing_checks_failed: list[str] = field(default_factory=list)
    reconciled: dict[str, bool] = field(default_factory=dict)  # documented table -> balances
    stale_models: list[str] = field(default_factory=list)  # raw models failing freshness
    dbt_problems: list[str] = field(default_factory=list)  # "asset:check (WARN|ERROR, N rows)"
    published: str | None = None  # the DuckDB file
    published_spark: str | None = None  # the Spark Connect server whose catalog was published
    report: str | None = None
    seconds: float = 0.0

    @property
    def alert(self) -> bool:
        """True when cron and schedulers should hear of it: a failed run, file or test."""
        return (
            not self.success
            or bool(self.failed_files)
            or bool(self.unlisted_models)
            or self.dbt_tests["failed"] > 0
            or not all(self.reconciled.values())
        )


def summarize(result: dg.ExecuteInProcessResult, seconds: float) -> RunSummary:
    summary = RunSummary(success=result.success, seconds=seconds)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        key = materialization.asset_key.path
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        if key[0] == "raw":
            summary.landed[key[-1]] = (
                int(metadata.get("files_landed", 0)),
                int(metadata.get("rows_landed", 0)),
            )
            if "api_records_listed" in metadata:
                summary.pulled[key[-1]] = {
                    name: int(metadata[f"api_{name}"])
                    for name in ("pages", "records_listed", "records_changed", "records_gone")
                }
        elif key == ["warehouse", "published"]:
            if "spark_remote" in metadata:
                summary.published_spark = str(metadata["spark_remote"])
            else:
                summary.published = str(metadata.get("path"))
        elif key == ["analytics", "report"]:
            summary.report = str(metadata.get("path"))
    for evaluation in result.get_asset_check_evaluations():
        is_landing_check = evaluation.asset_key.path[0] == "raw"
        if evaluation.check_name.startswith(RECONCILIATION_CHECK_PREFIX):
            summary.reconciled[evaluation.asset_key.path[-1]] = evaluation.passed
        if evaluation.check_name == FRESHNESS_CHECK:
            if not evaluation.passed:
                summary.stale_models.append(evaluation.asset_key.path[-1])
        elif is_landing_check:
            if not evaluation.passed:
                summary.landing_checks_failed.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                )
                if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                    summary.failed_files.extend(evaluation.metadata["failed_files"].value)
                    listing = evaluation.metadata.get("listing_failure")
                    if listing is not None and listing.value:
                        summary.unlisted_models.append(
                            f"{evaluation.asset_key.path[-1]}: {listing.value}"
                        )
        elif evaluation.passed:
            summary.dbt_tests["passed"] += 1
        else:
            warned = evaluation.severity == dg.AssetCheckSeverity.WARN
            summary.dbt_tests["warned" if warned else "failed"] += 1
            failures = evaluation.metadata.get("dagster_dbt/failed_row_count")
            summary.dbt_problems.append(
                f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
                f"({'WARN' if warned else 'ERROR'}"
                + (f", {failures.value} rows" if failures is not None else "")
                + ")"
            )
    return summary


def render(summary: RunSummary, source: str) -> str:
    total_files = sum(f for f, _ in summary.landed.values())
    total_rows = sum(r for _, r in summary.landed.values())
    lines = _pull_lines(summary.pulled) if summary.pulled else []
    lines.append(f"Landed {total_files} new files, {total_rows:,} rows in total, from {source}")
    for path in summary.failed_files:
        lines.append(f"  FAILED FILE {path} (recorded in meta.landed_files; retried next run)")
    for unlisted in summary.unlisted_models:
        lines.append(f"  LISTING FAILED {unlisted} (nothing new of it landed; retried next run)")
    if summary.stale_models:
        lines.append(
            f"Freshness (WARN): {len(summary.stale_models)} raw models have no transfer newer "
            f"than STIGG_FRESHNESS_MAX_AGE_HOURS: {', '.join(sorted(summary.stale_models))}"
        )
    for check in summary.landing_checks_failed:
        lines.append(f"  check failed: {check}")
    t = summary.dbt_tests
    lines.append(f"dbt tests: {t['passed']} passed, {t['failed']} failed, {t['warned']} warned")
    lines.extend(f"  {problem}" for problem in summary.dbt_problems)
    if summary.reconciled:
        balanced = sum(summary.reconciled.values())
        lines.append(
            f"Reconciliation: {balanced} of {len(summary.reconciled)} documented tables account "
            "for every raw row (in the table, superseded, repeated or rejected)"
        )
        lines.extend(
            f"  DOES NOT BALANCE: stigg.{name}" for name, ok in summary.reconciled.items() if not ok
        )
    if summary.published:
        lines.append(f"Published: {summary.published}")
        lines.append(
            f"Query it (read-only; runs never wait for you):\n"
            f"  uvx --from duckdb-cli==1.5.6 duckdb -readonly {summary.published} "
            f'-c "SELECT * FROM stigg.CUSTOMERS LIMIT 5"\n'
            f'  python -c "import duckdb; duckdb.connect({summary.published!r}, read_only=True)'
            f".sql('SELECT * FROM stigg.SUBSCRIPTIONS LIMIT 5').show()\""
        )
    elif summary.published_spark:
        lines.append(
            f"Published: the views of stigg, analytics, rejects, staging and meta on Spark "
            f"{summary.published_spark}\n"
            "Query it (readers never wait for runs):\n"
            '  python -c "from pyspark.sql import SparkSession; '
            f"SparkSession.builder.remote('{summary.published_spark}').getOrCreate()"
            ".sql('SELECT * FROM stigg.SUBSCRIPTIONS LIMIT 5').show()\""
        )
    else:
        lines.append("Published: nothing (the last published warehouse is unchanged)")
    if summary.report:
        lines.append(f"Report: {summary.report} (open it in a browser)")
    status = "succeeded" if summary.success else "FAILED"
    lines.append(f"Run {status} in {summary.seconds:.1f}s")
    return "\n".join(lines)


def _pull_lines(pulled: dict[str, dict[str, int]]) -> list[str]:
    def total(name: str) -> int:
        return sum(p[name] for p in pulled.values())

    lines = [
        f"Pulled from Stigg's API: {total('records_listed'):,} records listed, "
        f"{total('records_changed'):,} new or changed (written as new rows), "
        f"{total('pages'):,} pages and calls"
    ]
    gone = {m: p["records_gone"] for m, p in sorted(pulled.items()) if p["records_gone"]}
    if gone:
        lines.append(
            "  No longer listed by a full pull (kept as last seen): "
            + ", ".join(f"{m} {n}" for m, n in gone.items())
        )
    lines.append(
        "  USAGE_EVENTS_<ENV> stay empty: Stigg's API cannot list raw usage events "
        "(only the file export has them)"
    )
    return lines
