"""The dbt build that a run makes, as pure functions: its arguments, and what its events say.

The dbt asset (orchestration/defs/transform.py) calls these; plain pytest tests them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.registry import DEFAULT_ENGINE
from orchestration.settings import Settings

# Lines the project's macros log for the orchestrator (dbt's JinjaLogInfo events).
ROW_COUNT_PREFIX = "stigg_row_count="  # macros/stigg_report_row_count.sql
ENVIRONMENT_TABLES_PREFIX = "stigg_environment_tables="  # macros/stigg/environment_tables.sql
# dagster-dbt gives each dbt invocation its own target directory (manifest, run results, compiled
# SQL: about 16 MB). The newest stay for whoever debugs a run; older ones are removed.
KEPT_INVOCATION_TARGETS = 10
# dbt runs two nodes at once (profiles.yml), and DuckDB's memory limit is shared by both. Two
# large aggregates at once (usage_daily and the USAGE_EVENTS reconciliation) did not fit in 3 GB
# with 100M raw rows; with 10M they did, with room to spare. Above this many raw rows (of the
# largest raw table) per GB of the limit, a run builds one node at a time. Each node still uses
# every core (DuckDB's own threads).
RAW_ROWS_PER_GB_FOR_TWO_NODES = 10_000_000
_MEMORY_UNITS = {"KB": 1e-6, "MB": 1e-3, "GB": 1, "TB": 1e3}
_MEMORY_UNITS |= {"KIB": 2**10 / 1e9, "MIB": 2**20 / 1e9, "GIB": 2**30 / 1e9, "TIB": 2**40 / 1e9}


def dbt_vars(settings: Settings) -> dict[str, str]:
    """What profiles.yml reads (the run's working copy, DuckDB's memory limit), and what a run's
    tests check of an incremental table: the rows its build took in (a full refresh takes in
    every row; macros/stigg/incremental.sql). The same for every run, so dbt parses once.
    (DuckDB's; the Spark engine's are in runtime/warehouse_engine.py.)"""
    return {
        "stigg_database_path": str(settings.build_path),
        "stigg_duckdb_memory_limit": settings.duckdb_memory_limit,
        "stigg_check_scope": "new_rows",
    }


def dbt_build_args(
    settings: Settings,
    variables: Mapping[str, str] | None = None,
    *,
    target: str = DEFAULT_ENGINE,  # each engine's dbt target is named after it (profiles.yml)
    full_refresh: bool,
    largest_raw_rows: int = 0,
) -> list[str]:
    """`dbt build` with the engine's target and vars (DuckDB's: the run's working copy and its
    memory limit), never through the environment. Unit tests are for development and CI, as
    dbt recommends: a pipeline run builds and tests the data. One node at a time when the raw
    data is large for DuckDB's memory limit (`dbt_threads`)."""
    threads = dbt_threads(largest_raw_rows, settings.duckdb_memory_limit)
    return [
        "build",
        "--target",
        target,
        "--vars",
        json.dumps(
            dict(variables) if variables is not None else dbt_vars(settings), sort_keys=True
        ),
        "--exclude-resource-type",
        "unit_test",
        *(["--threads", str(threads)] if threads is not None else []),
        *(["--full-refresh"] if full_refresh else []),
    ]


def dbt_threads(largest_raw_rows: int, memory_limit: str) -> int | None:
    """1 when the largest raw table holds more than RAW_ROWS_PER_GB_FOR_TWO_NODES rows per GB of
    DuckDB's memory limit; None (the profile's 2) otherwise, or for a limit given as a share of
    RAM, which this does not size."""
    gigabytes = memory_gigabytes(memory_limit)
    if gigabytes is None or largest_raw_rows <= RAW_ROWS_PER_GB_FOR_TWO_NODES * gigabytes:
        return None
    return 1


def memory_gigabytes(memory_limit: str) -> float | None:
    """A DuckDB memory limit ("3GB", "2.5 GiB", "800MB") in GB; None for "80%" and the like."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]I?B)\s*", memory_limit, flags=re.I)
    if match is None:
        return None
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2).upper()]


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
