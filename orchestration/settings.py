"""Configuration from environment variables, with safe defaults. The bottom of the import graph.

| variable | default |
| --- | --- |
| STIGG_EXPORT_URI | the sample export in `seeds/sample_export` |
| STIGG_WAREHOUSE_PATH | `warehouse/stigg_warehouse.duckdb` in the project |
| DAGSTER_HOME | `dagster_home/` in the project (it ships our dagster.yaml) |
| STIGG_DUCKDB_MEMORY_LIMIT | DuckDB's own default (80% of RAM) |

Automation (read when the Dagster definitions load):

| variable | default |
| --- | --- |
| STIGG_SCHEDULE_CRON | `0 6 * * *` (daily at 06:00) |
| STIGG_SCHEDULE_TIMEZONE | `UTC` |
| STIGG_SCHEDULE_ENABLED | `false`: the schedule starts stopped until turned on |
| STIGG_SENSOR_ENABLED | `false`: the new-file sensor starts stopped until turned on |
| STIGG_SENSOR_INTERVAL_SECONDS | `60` |
| STIGG_FRESHNESS_MAX_AGE_HOURS | `48`: a raw model whose newest transfer is older warns |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SAMPLE_EXPORT_DIR = PROJECT_ROOT / "seeds" / "sample_export"
DEFAULT_WAREHOUSE_PATH = PROJECT_ROOT / "warehouse" / "stigg_warehouse.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"
DUCKDB_MEMORY_LIMIT_ENV = "STIGG_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"

# dbt reads the DuckDB file to build from this variable (see profiles.yml).
DBT_DATABASE_ENV = "STIGG_DBT_DATABASE_PATH"

# The warehouse's schemas. DuckDB names a file's catalog after its stem, so a file named
# like a schema (stigg.duckdb) would make `stigg.CUSTOMERS` ambiguous for every analyst.
WAREHOUSE_SCHEMAS = ("raw", "staging", "stigg", "analytics", "meta")


@dataclass(frozen=True)
class Settings:
    export_uri: str
    warehouse_path: Path
    # DuckDB's memory_limit for every writer (landing and dbt); it spills to disk beyond it.
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    def __post_init__(self) -> None:
        stem = self.warehouse_path.name.split(".")[0].lower()
        if stem in WAREHOUSE_SCHEMAS:
            raise ValueError(
                f"STIGG_WAREHOUSE_PATH {self.warehouse_path} is named like the warehouse's "
                f"schema {stem!r}; DuckDB would name the database {stem!r} too and make "
                f"`{stem}.<table>` ambiguous. Choose another file name, e.g. stigg_warehouse.duckdb."
            )

    @property
    def build_path(self) -> Path:
        """The working copy that runs build into, before it is published at warehouse_path."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".build")

    @property
    def report_path(self) -> Path:
        """The analytics report (`stigg-warehouse report`, asset analytics/report), beside it."""
        return self.warehouse_path.with_name(
            self.warehouse_path.name.split(".")[0] + "_report.html"
        )

    @property
    def lock_path(self) -> Path:
        """The one-writer lock that every run holds while it writes (services/writer_lock.py)."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".lock")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            export_uri=env.get("STIGG_EXPORT_URI") or str(SAMPLE_EXPORT_DIR),
            warehouse_path=Path(
                env.get("STIGG_WAREHOUSE_PATH") or DEFAULT_WAREHOUSE_PATH
            ).absolute(),
            duckdb_memory_limit=env.get(DUCKDB_MEMORY_LIMIT_ENV) or DEFAULT_DUCKDB_MEMORY_LIMIT,
        )


def dagster_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).absolute()


_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class AutomationSettings:
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "UTC"
    schedule_enabled: bool = False
    sensor_enabled: bool = False
    sensor_interval_seconds: int = 60
    freshness_max_age_hours: float = 48.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AutomationSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            schedule_cron=env.get("STIGG_SCHEDULE_CRON") or defaults.schedule_cron,
            schedule_timezone=env.get("STIGG_SCHEDULE_TIMEZONE") or defaults.schedule_timezone,
            schedule_enabled=env.get("STIGG_SCHEDULE_ENABLED", "").lower() in _TRUE,
            sensor_enabled=env.get("STIGG_SENSOR_ENABLED", "").lower() in _TRUE,
            sensor_interval_seconds=int(
                env.get("STIGG_SENSOR_INTERVAL_SECONDS") or defaults.sensor_interval_seconds
            ),
            freshness_max_age_hours=float(
                env.get("STIGG_FRESHNESS_MAX_AGE_HOURS") or defaults.freshness_max_age_hours
            ),
        )
