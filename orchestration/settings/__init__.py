"""Every setting, read from the environment in this package and nowhere else under
orchestration/: here the warehouse's, its paths and automation's; Stigg's API's in api.py; the
parsing of a value in values.py.

Each variable, its default and its meaning: docs/configuration.md, whose table a test checks
against the variables this package reads (tests/unit/test_docs.py). Automation's variables are
read when the Dagster definitions load. Dagster resources take the settings as `dg.EnvVar`
(orchestration/defs/resources.py), so the UI shows a variable's name and a run resolves its value
when it starts; a variable that is not set takes its default. The CLI hands its flags to a run as
resource config, never through the environment.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.registry import DEFAULT_ENGINE, DEFAULT_SOURCE, ENGINES, SOURCES, source_class
from orchestration.settings.api import ApiKey, ApiSettings, parse_api_keys
from orchestration.settings.values import TRUE, number

__all__ = ["ApiKey", "ApiSettings", "parse_api_keys"]  # read here, defined beside (api.py)

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Each warehouse's dbt folder (Settings.dbt_target_dir) is in here.
DBT_WAREHOUSE_FOLDERS = DBT_PROJECT_DIR / "target" / "warehouses"
SAMPLE_EXPORT_DIR = PROJECT_ROOT / "seeds" / "sample_export"
DEFAULT_WAREHOUSE_PATH = PROJECT_ROOT / "warehouse" / "stigg_warehouse.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"

# The warehouse's schemas. DuckDB names a file's catalog after its stem, so a file named
# like a schema (stigg.duckdb) would make `stigg.CUSTOMERS` ambiguous for every analyst.
WAREHOUSE_SCHEMAS = ("raw", "staging", "stigg", "rejects", "analytics", "meta")

# Resource field -> (environment variable, default). The resources' fields are these names.
WAREHOUSE_VARIABLES: dict[str, tuple[str, str]] = {
    "export_uri": ("STIGG_EXPORT_URI", str(SAMPLE_EXPORT_DIR)),
    "warehouse_path": ("STIGG_WAREHOUSE_PATH", str(DEFAULT_WAREHOUSE_PATH)),
    "duckdb_memory_limit": ("STIGG_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
    "engine": ("STIGG_ENGINE", DEFAULT_ENGINE),
    "source": ("STIGG_SOURCE", DEFAULT_SOURCE),
}


@dataclass(frozen=True)
class ObjectStoreRetry:
    """The retry policy for an export in object storage (s3://), in one place: every request is
    tried up to `max_attempts` times (5xx, SlowDown, throttling, a dropped connection: botocore's
    standard mode, exponential backoff with jitter), a body cut off or a read past
    `read_timeout_seconds` is read again up to `max_attempts` times (s3fs), and a connection
    waits `connect_timeout_seconds`."""

    max_attempts: int = 5
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ObjectStoreRetry:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_attempts=number(env, "STIGG_S3_MAX_ATTEMPTS", defaults.max_attempts, int),
            connect_timeout_seconds=number(
                env, "STIGG_S3_CONNECT_TIMEOUT_SECONDS", defaults.connect_timeout_seconds
            ),
            read_timeout_seconds=number(
                env, "STIGG_S3_READ_TIMEOUT_SECONDS", defaults.read_timeout_seconds
            ),
        )


@dataclass(frozen=True)
class Settings:
    export_uri: str
    warehouse_path: Path
    # DuckDB's memory_limit for every writer (landing and dbt); it spills to disk beyond it.
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    # An S3-compatible endpoint for s3:// exports; credentials are boto's own variables.
    s3_endpoint_url: str | None = None
    engine: str = DEFAULT_ENGINE
    # With the Spark engine: the Spark Connect server (it may carry a token, so it is read from
    # the environment at run time, never run config). None: the local server (spark_local_dir).
    spark_remote: str | None = None
    source: str = DEFAULT_SOURCE
    api: ApiSettings = field(default_factory=ApiSettings, repr=False)
    s3_retry: ObjectStoreRetry = field(default_factory=ObjectStoreRetry)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(
                f"STIGG_ENGINE={self.engine!r} is not an engine: choose one of {', '.join(ENGINES)}"
            )
        if self.source not in SOURCES:
            raise ValueError(
                f"STIGG_SOURCE={self.source!r} is not a source: choose one of {', '.join(SOURCES)}"
            )
        source = source_class(self.source)
        if source.engines is not None and self.engine not in source.engines:
            raise ValueError(
                f"STIGG_SOURCE={self.source} builds with {' or '.join(source.engines)} only: "
                f"unset STIGG_ENGINE (or set {source.engines[0]}). {source.engines_reason}"
            )
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
    def build_wal_path(self) -> Path:
        """The working copy's write-ahead log (DuckDB's `<file>.wal`), part of the working copy."""
        return self.build_path.with_name(self.build_path.name + ".wal")

    @property
    def api_export_dir(self) -> Path:
        """Where API pulls write their files, in the export's own layout, beside the warehouse
        (runtime/sources/api/pull.py); landing lands them as it lands an export."""
        return self.warehouse_path.with_name(self.warehouse_path.name.split(".")[0] + "_api_export")

    @property
    def report_path(self) -> Path:
        """The analytics report (`stigg-warehouse report`, asset analytics/report), beside it."""
        return self.warehouse_path.with_name(
            self.warehouse_path.name.split(".")[0] + "_report.html"
        )

    @property
    def spark_local_dir(self) -> Path:
        """The local Spark Connect server's metastore, warehouse folder and log, beside the
        warehouse (runtime/engines/spark_server.py)."""
        return self.warehouse_path.with_name(self.warehouse_path.name.split(".")[0] + "_spark")

    @property
    def dbt_target_dir(self) -> Path:
        """This warehouse's dbt folder under dbt_project/target/: each of its runs' invocation
        folders (manifest, run results, compiled SQL, dbt.log) and the parse its next run starts
        from. A run of another warehouse never prunes them nor replaces that parse."""
        stem = self.warehouse_path.name.split(".")[0]
        digest = hashlib.sha256(str(self.warehouse_path).encode()).hexdigest()[:8]
        return DBT_WAREHOUSE_FOLDERS / f"{stem}-{digest}"

    @property
    def builder_pid_path(self) -> Path:
        """The pid of the dbt that a run has building (runtime/writer.py)."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".lock.dbt")

    @property
    def lock_path(self) -> Path:
        """The one-writer lock that every run holds while it writes (runtime/writer.py)."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".lock")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: str | None
    ) -> Settings:
        """Settings from the environment; `overrides` (resource config, CLI flags) win when set."""
        env = os.environ if environ is None else environ
        values = warehouse_config(env, **overrides)
        source = values["source"].strip().lower()
        reads_api = source in SOURCES and source_class(source).reads_api_settings
        return cls(
            export_uri=values["export_uri"],
            warehouse_path=Path(values["warehouse_path"]).absolute(),
            duckdb_memory_limit=values["duckdb_memory_limit"],
            s3_endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            engine=values["engine"].strip().lower(),
            spark_remote=env.get("STIGG_SPARK_REMOTE") or None,
            source=source,
            api=ApiSettings.from_env(env) if reads_api else ApiSettings(),
            s3_retry=ObjectStoreRetry.from_env(env),
        )


def warehouse_config(
    environ: Mapping[str, str] | None = None, **overrides: str | None
) -> dict[str, str]:
    """Each warehouse resource field's value: its override, else its variable, else its default."""
    env = os.environ if environ is None else environ
    return {
        field: overrides.get(field) or env.get(variable) or default
        for field, (variable, default) in WAREHOUSE_VARIABLES.items()
    }


def variables_set(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Which of the warehouse's variables the environment sets (the others take defaults)."""
    env = os.environ if environ is None else environ
    return frozenset(variable for variable, _ in WAREHOUSE_VARIABLES.values() if env.get(variable))


def dagster_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).absolute()


def subprocess_environment(
    dagster_home_path: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a child process (`dagster dev`): this one, with DAGSTER_HOME set and
    the scripts beside this Python (dbt, dagster) on PATH even when no venv is activated."""
    env = dict(os.environ if environ is None else environ)
    env["DAGSTER_HOME"] = str(dagster_home_path)
    scripts = str(Path(sys.executable).parent)
    if scripts not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join(p for p in (scripts, env.get("PATH")) if p)
    return env


def spark_server_environment(spark_home: Path, environ: Mapping[str, str] | None = None) -> dict:
    """The environment of a local Spark Connect server: this one, with SPARK_HOME the pyspark
    wheel's folder, and no SPARK_REMOTE (which would make spark-submit a client)."""
    env = dict(os.environ if environ is None else environ)
    env["SPARK_HOME"] = str(spark_home)
    env.pop("SPARK_REMOTE", None)
    return env


def java_home(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get("JAVA_HOME") or None


def dbt_executable() -> str:
    """dbt as the runs start it (`stigg-dbt`, runtime/dbt_command.py), installed beside this
    Python: found without an activated venv or PATH."""
    return str(Path(sys.executable).parent / "stigg-dbt")


@dataclass(frozen=True)
class AutomationSettings:
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "UTC"
    schedule_enabled: bool = False
    sensor_enabled: bool = False
    sensor_interval_seconds: int = 60
    freshness_max_age_hours: float = 48.0
    source: str = DEFAULT_SOURCE  # STIGG_SOURCE: a model it does not provide has no freshness

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AutomationSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            schedule_cron=env.get("STIGG_SCHEDULE_CRON") or defaults.schedule_cron,
            schedule_timezone=env.get("STIGG_SCHEDULE_TIMEZONE") or defaults.schedule_timezone,
            schedule_enabled=env.get("STIGG_SCHEDULE_ENABLED", "").lower() in TRUE,
            sensor_enabled=env.get("STIGG_SENSOR_ENABLED", "").lower() in TRUE,
            sensor_interval_seconds=int(
                env.get("STIGG_SENSOR_INTERVAL_SECONDS") or defaults.sensor_interval_seconds
            ),
            freshness_max_age_hours=float(
                env.get("STIGG_FRESHNESS_MAX_AGE_HOURS") or defaults.freshness_max_age_hours
            ),
            source=(env.get(WAREHOUSE_VARIABLES["source"][0]) or DEFAULT_SOURCE).strip().lower(),
        )
