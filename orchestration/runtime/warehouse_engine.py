"""The engine a run writes with, behind one interface: DuckDB (the default) or Spark.

The assets call these methods and nothing engine-specific: landing's raw layer, the build's
input (the skip rule of runtime/build_state.py), the dbt target and vars, publishing, and a
read of the published manifest for the new-file sensor. The engines' own code is in
runtime/engines/.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestration.runtime import build_state, dbt_build
from orchestration.runtime.engines import duckdb as duck
from orchestration.runtime.landing import RawLayer, unrecorded_files
from orchestration.runtime.sources.api import manifest as api_manifest
from orchestration.runtime.sources.export import ExportFile, ExportSource
from orchestration.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from orchestration.runtime.sources.api.pull import PullResult


@dataclass(frozen=True)
class BuildInput:
    """What the dbt asset decides from: nothing to build, and the input's fingerprint."""

    unchanged: bool
    fingerprint: str
    largest_raw_rows: int = 0


class DuckDBWarehouse:
    """A run builds the working copy and publishes it by renaming it over the published file."""

    name = "duckdb"
    dbt_target = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextlib.contextmanager
    def raw_layer(self, source: ExportSource) -> Iterator[RawLayer]:
        settings = self.settings
        with duck.connect(settings.build_path, memory_limit=settings.duckdb_memory_limit) as con:
            if source.is_remote:
                con.register_filesystem(source.fs)
            yield duck.DuckDBRaw(con, settings.build_path)

    def build_input(self) -> BuildInput:
        with duck.connect(self.settings.build_path, read_only=True) as con:
            unchanged, fingerprint = build_state.is_published_build(
                con, self.settings.warehouse_path
            )
            return BuildInput(unchanged, fingerprint, duck.largest_raw_table_rows(con))

    def dbt_vars(self) -> dict[str, str]:
        return dbt_build.dbt_vars(self.settings)

    def record_build(self, fingerprint: str) -> None:
        with duck.connect(self.settings.build_path) as con:
            build_state.record_fingerprint(con, fingerprint)

    def publish(self, run_id: str) -> dict[str, Any]:
        result = duck.publish(self.settings)
        return {
            "path": str(result.path),
            "size_bytes": result.size_bytes,
            "publish_seconds": round(result.seconds, 3),
        }

    def close(self) -> None:
        pass

    def discard_working_copy(self) -> None:
        duck.discard_working_copy(self.settings)

    def record_pull(self, pulled: PullResult) -> None:
        """meta.api_pulls and meta.api_records of the working copy (runtime/sources/api/)."""
        with duck.connect(self.settings.build_path) as con:
            api_manifest.record(con, pulled.manifest_rows(), pulled.state)

    def unpublished_files(self, files: Sequence[ExportFile], statuses: Sequence[str]) -> list:
        if not self.settings.warehouse_path.exists():
            return list(files)
        with duck.connect(self.settings.warehouse_path, read_only=True) as con:
            return unrecorded_files(duck.DuckDBRaw(con), files, statuses=statuses)


class SparkWarehouse:
    """A run lands into `raw`, builds a build slot, and publishes by switching views
    (runtime/engines/spark.py)."""

    name = "spark"
    dbt_target = "spark"

    def __init__(self, settings: Settings, remote: str) -> None:
        self.settings = settings
        self.remote = remote
        self._session: SparkSession | None = None

    @property
    def spark(self) -> SparkSession:
        from orchestration.runtime.engines import spark

        if self._session is None:
            self._session = spark.connect(self.remote)
        return self._session

    @contextlib.contextmanager
    def raw_layer(self, source: ExportSource) -> Iterator[RawLayer]:
        from orchestration.runtime.engines import spark

        yield spark.SparkRaw(self.spark)

    def build_input(self) -> BuildInput:
        from orchestration.runtime.engines import spark

        fingerprint = build_state.fingerprint_of(spark.manifest_digest(self.spark))
        return BuildInput(fingerprint == spark.published_fingerprint(self.spark), fingerprint)

    def dbt_vars(self) -> dict[str, str]:
        from orchestration.runtime.engines import spark

        return spark_dbt_vars(self.settings, self.remote, spark.build_slot(self.spark))

    def record_build(self, fingerprint: str) -> None:
        from orchestration.runtime.engines import spark

        spark.record_build(self.spark, spark.build_slot(self.spark), fingerprint)

    def publish(self, run_id: str) -> dict[str, Any]:
        from orchestration.runtime.engines import spark

        result = spark.publish(self.spark, spark.build_slot(self.spark), run_id)
        return {
            "spark_remote": without_secrets(self.remote),
            "slot": result.slot,
            "views": result.views,
            "publish_seconds": round(result.seconds, 3),
        }

    def close(self) -> None:
        """Release the server's session (before a local server stops)."""
        if self._session is not None:
            self._session.stop()
            self._session = None

    def discard_working_copy(self) -> None:
        pass  # Spark's build slot is rebuilt whole by the next run

    def record_pull(self, pulled: PullResult) -> None:
        raise NotImplementedError("STIGG_SOURCE=api builds a DuckDB warehouse (settings.py)")

    def drop_raw_layer(self) -> None:
        from orchestration.runtime.engines import spark

        spark.drop_raw_layer(self.spark)

    def unpublished_files(self, files: Sequence[ExportFile], statuses: Sequence[str]) -> list:
        from orchestration.runtime.engines import spark

        return unrecorded_files(spark.SparkRaw(self.spark), files, statuses=statuses)


Warehouse = DuckDBWarehouse | SparkWarehouse


def spark_dbt_vars(settings: Settings, remote: str, slot: str) -> dict[str, str]:
    """dbt's vars for a Spark build into `slot`. Every Spark build rebuilds its tables whole, so
    its tests check every row. The local server's loopback address is passed; a configured
    STIGG_SPARK_REMOTE (it may hold a token) is read by profiles.yml from the environment, and
    never reaches dbt's command line, which Dagster logs."""
    variables = {"stigg_build_slot": slot, "stigg_check_scope": "all"}
    if settings.spark_remote is None:
        variables["stigg_spark_remote"] = remote
    return variables


def open_warehouse(settings: Settings, spark_remote: str | None = None) -> Warehouse:
    """The engine of `settings`; for Spark, the server a run found or started (`spark_remote`)."""
    if settings.engine == "spark":
        remote = spark_remote or settings.spark_remote
        if remote is None:
            raise RuntimeError("The Spark engine needs a Spark Connect server (spark_session)")
        return SparkWarehouse(settings, remote)
    return DuckDBWarehouse(settings)


@contextlib.contextmanager
def spark_session(settings: Settings, log=print) -> Iterator[str | None]:
    """The Spark Connect address a run uses: STIGG_SPARK_REMOTE, or the local server of
    `settings` (found running, or started for the block). None for DuckDB."""
    if settings.engine != "spark":
        yield None
        return
    if settings.spark_remote is not None:
        log(f"Spark engine: Spark Connect server {without_secrets(settings.spark_remote)}")
        yield settings.spark_remote
        return
    from orchestration.runtime.engines import spark_server

    with spark_server.local_server(settings.spark_local_dir) as server:
        log(f"Spark engine: {server.describe()}")
        yield server.remote


def running_spark_remote(settings: Settings) -> str | None:
    """The Spark server a reader may use without starting one: STIGG_SPARK_REMOTE, or a local
    server that is running."""
    if settings.spark_remote is not None:
        return settings.spark_remote
    from orchestration.runtime.engines import spark_server

    found = spark_server.running_server(settings.spark_local_dir)
    return found.remote if found else None


def without_secrets(remote: str) -> str:
    """A Spark Connect address without its parameters (`;token=...`)."""
    return remote.split(";", 1)[0].rstrip("/")
