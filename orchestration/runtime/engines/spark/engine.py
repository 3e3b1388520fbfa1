"""The Spark engine, as runs and readers call it (engines/base.py). A run lands into `raw`, builds
a build slot, and publishes by switching views (tables.py), on the Spark Connect server of
STIGG_SPARK_REMOTE or a local one (server.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from orchestration.runtime.build_state import fingerprint_of
from orchestration.runtime.engines.base import BuildInput, EngineNotRunning, Report
from orchestration.runtime.engines.spark import server, tables
from orchestration.runtime.landing import RawLayer, unrecorded_files
from orchestration.runtime.sources.export import ExportFile, ExportSource
from orchestration.settings import Settings

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

NOT_RUNNING = (
    "No Spark Connect server is running to read the published warehouse from: start "
    "`stigg-warehouse spark-server`, or set STIGG_SPARK_REMOTE."
)


class SparkEngine:
    name = "spark"
    dbt_target = "spark"

    def __init__(self, settings: Settings, remote: str | None = None) -> None:
        self.settings = settings
        self.remote = remote
        self._session: SparkSession | None = None

    @classmethod
    def for_reading(cls, settings: Settings) -> SparkEngine:
        remote = running_remote(settings)
        if remote is None:
            raise EngineNotRunning(NOT_RUNNING)
        return cls(settings, remote)

    @property
    def spark(self) -> SparkSession:
        if self.remote is None:
            raise RuntimeError("The Spark engine needs a Spark Connect server (working_copy)")
        if self._session is None:
            self._session = tables.connect(self.remote)
        return self._session

    def describe(self) -> str:
        return "Spark"

    def run_notes(self) -> list[str]:
        return [f"Spark: {server_description(self.settings)}"]

    def disk_shortfall(
        self, files: Sequence[ExportFile] | None, *, full_refresh: bool
    ) -> str | None:
        return None  # Spark writes on its server's storage, whose errors say so themselves

    def nothing_new(self, files: Sequence[ExportFile]) -> bool:
        return False  # it needs the server: the run's dbt asset skips instead

    @contextlib.contextmanager
    def working_copy(
        self, *, from_scratch: bool, from_published: bool, report: Report, log: Report
    ) -> Iterator[None]:
        """The server for the run (found running, or started for it); a full refresh drops the
        raw layer. The build slot is rebuilt whole by every run."""
        with session(self.settings, log=log) as remote:
            self.remote = remote
            try:
                if from_scratch:
                    tables.drop_raw_layer(self.spark)
                yield
            finally:
                self.close()

    @contextlib.contextmanager
    def raw_layer(self, source: ExportSource) -> Iterator[RawLayer]:
        yield tables.SparkRaw(self.spark)

    def build_input(self) -> BuildInput:
        fingerprint = fingerprint_of(tables.manifest_input(self.spark))
        return BuildInput(fingerprint == tables.published_fingerprint(self.spark), fingerprint)

    def dbt_vars(self) -> dict[str, str]:
        assert self.remote is not None
        return dbt_vars(self.settings, self.remote, tables.build_slot(self.spark))

    def record_build(self, fingerprint: str) -> None:
        tables.record_build(self.spark, tables.build_slot(self.spark), fingerprint)

    def publish(self, run_id: str) -> dict[str, Any]:
        assert self.remote is not None
        result = tables.publish(self.spark, tables.build_slot(self.spark), run_id)
        return {
            "spark_remote": without_secrets(self.remote),
            "slot": result.slot,
            "views": result.views,
            "publish_seconds": round(result.seconds, 3),
        }

    def discard_working_copy(self) -> None:
        pass  # the build slot is rebuilt whole by the next run

    def unpublished_files(
        self, files: Sequence[ExportFile], statuses: Sequence[str]
    ) -> list[ExportFile]:
        return unrecorded_files(tables.SparkRaw(self.spark), files, statuses=statuses)

    @contextlib.contextmanager
    def published_tables(self, names: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """The published views, extracted through Arrow into an in-memory DuckDB."""
        import duckdb

        try:
            with duckdb.connect() as con:
                con.execute("SET TimeZone = 'UTC'")
                for name in names:
                    schema, table = name.split(".")
                    extract = self.spark.table(name).toArrow()  # noqa: F841 - read by the SQL
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                    con.execute(f'CREATE TABLE {schema}."{table}" AS SELECT * FROM extract')
                yield con
        finally:
            self.close()

    def close(self) -> None:
        """Release the server's session (before a local server stops)."""
        if self._session is not None:
            self._session.stop()
            self._session = None


def dbt_vars(settings: Settings, remote: str, slot: str) -> dict[str, str]:
    """dbt's vars for a Spark build into `slot`. Every Spark build rebuilds its tables whole, so
    its tests check every row. The local server's loopback address is passed; a configured
    STIGG_SPARK_REMOTE (it may hold a token) is read by profiles.yml from the environment, and
    never reaches dbt's command line, which Dagster logs."""
    variables = {"stigg_build_slot": slot, "stigg_check_scope": "all"}
    if settings.spark_remote is None:
        variables["stigg_spark_remote"] = remote
    return variables


@contextlib.contextmanager
def session(settings: Settings, log: Report = print) -> Iterator[str]:
    """The Spark Connect address a run uses: STIGG_SPARK_REMOTE, or the local server of
    `settings` (found running, or started for the block)."""
    if settings.spark_remote is not None:
        log(f"Spark engine: Spark Connect server {without_secrets(settings.spark_remote)}")
        yield settings.spark_remote
        return
    with server.local_server(settings.spark_local_dir) as local:
        log(f"Spark engine: {local.describe()}")
        yield local.remote


def running_remote(settings: Settings) -> str | None:
    """The Spark server a reader may use without starting one: STIGG_SPARK_REMOTE, or a local
    server that is running."""
    if settings.spark_remote is not None:
        return settings.spark_remote
    found = server.running_server(settings.spark_local_dir)
    return found.remote if found else None


def server_description(settings: Settings) -> str:
    """Which Spark Connect server a Spark run will use, as the run's first lines say it."""
    if settings.spark_remote is not None:
        return f"Spark Connect server {without_secrets(settings.spark_remote)} (STIGG_SPARK_REMOTE)"
    found = server.running_server(settings.spark_local_dir)
    if found is not None:
        return f"the {found.describe()}"
    return (
        f"no server is running for {settings.spark_local_dir}: starting a local Spark Connect "
        "server for this run (`stigg-warehouse spark-server` keeps one running)"
    )


def without_secrets(remote: str) -> str:
    """A Spark Connect address without its parameters (`;token=...`)."""
    return remote.split(";", 1)[0].rstrip("/")
