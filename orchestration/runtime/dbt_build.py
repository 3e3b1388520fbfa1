"""The dbt build that a run makes, as pure functions: its arguments, and what its events say.

The dbt asset (orchestration/defs/transform.py) calls these; plain pytest tests them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.settings import Settings

# Lines the project's macros log for the orchestrator (dbt's JinjaLogInfo events).
ROW_COUNT_PREFIX = "stigg_row_count="  # macros/stigg_report_row_count.sql
ENVIRONMENT_TABLES_PREFIX = "stigg_environment_tables="  # macros/stigg/environment_tables.sql
# dagster-dbt gives each dbt invocation its own target directory (manifest, run results, compiled
# SQL: about 16 MB). The newest stay for whoever debugs a run; older ones are removed.
KEPT_INVOCATION_TARGETS = 10


def dbt_vars(settings: Settings) -> dict[str, str]:
    """What profiles.yml reads (the run's working copy, DuckDB's memory limit), and what a run's
    tests check of an incremental table: the rows its build took in (a full refresh takes in
    every row; macros/stigg/incremental.sql). The same for every run, so dbt parses once."""
    return {
        "stigg_database_path": str(settings.build_path),
        "stigg_duckdb_memory_limit": settings.duckdb_memory_limit,
        "stigg_check_scope": "new_rows",
    }


def dbt_build_args(settings: Settings, *, full_refresh: bool) -> list[str]:
    """`dbt build` into the run's working copy. The file and DuckDB's memory limit go as vars,
    not through the environment. Unit tests are for development and CI, as dbt recommends: a
    pipeline run builds and tests the data."""
    return [
        "build",
        "--vars",
        json.dumps(dbt_vars(settings), sort_keys=True),
        "--exclude-resource-type",
        "unit_test",
        *(["--full-refresh"] if full_refresh else []),
    ]


def _logged(raw_event: Mapping[str, Any], prefix: str) -> str | None:
    info = raw_event["info"]
    if info["name"] != "JinjaLogInfo" or not info["msg"].startswith(prefix):
        return None
    return info["msg"].removeprefix(prefix)


def reported_row_count(raw_event: Mapping[str, Any]) -> int | None:
    """The count that stigg_report_row_count logged, if this event is that log line."""
    value = _logged(raw_event, ROW_COUNT_PREFIX)
    return None if value is None else int(value)


def reported_environment_tables(raw_event: Mapping[str, Any]) -> dict[str, int] | None:
    """{USAGE_EVENTS_<ENV>: rows} that stigg_environment_tables logged, if this event is it."""
    value = _logged(raw_event, ENVIRONMENT_TABLES_PREFIX)
    return None if value is None else {name: int(rows) for name, rows in json.loads(value).items()}


def node_of(raw_event: Mapping[str, Any]) -> str | None:
    """The unique id of the dbt node an event is about, if any."""
    return raw_event["data"].get("node_info", {}).get("unique_id")


def dbt_errors(run_results: Mapping[str, Any]) -> list[str]:
    """The nodes that dbt could not build, each with dbt's message."""
    return [
        f"{result['unique_id']}: {(result.get('message') or '').strip()}"
        for result in run_results.get("results", [])
        if result.get("status") == "error"
    ]


def failure_description(run_results: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            "dbt build failed (failed checks are listed with this run's checks)",
            *dbt_errors(run_results),
        ]
    )


def prune_invocation_targets(
    target_dir: Path, asset_name: str, keep: int = KEPT_INVOCATION_TARGETS
) -> list[Path]:
    """Remove all but the `keep` newest of the target directories that dagster-dbt made for
    `asset_name`'s invocations (`<asset_name>-<run id>-<uuid>`). What it removed."""
    invocations = sorted(
        (path for path in target_dir.glob(f"{asset_name}-*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    removed = invocations[keep:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
