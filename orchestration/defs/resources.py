"""The resources the assets share: the warehouse a run writes, the published warehouse that
readers open, and dbt. Configured with `dg.EnvVar`, so the UI shows which variable sets each
field and a run resolves its value when it starts; a variable that is not set takes the default
(orchestration/settings/)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import dagster as dg
from pydantic import PrivateAttr

from orchestration.defs.dbt_project import stigg_dbt_project
from orchestration.registry import engine_class, open_engine, open_source
from orchestration.runtime import disk_space, run_tags, writer
from orchestration.runtime.engines.base import Engine, EngineNotRunning
from orchestration.runtime.private_apis import StiggDbtCli
from orchestration.runtime.sources.base import Source
from orchestration.settings import (
    PROJECT_ROOT,
    WAREHOUSE_VARIABLES,
    Settings,
    dbt_executable,
    variables_set,
)


def is_full_refresh(run: dg.DagsterRun | None) -> bool:
    return run_tags.is_full_refresh(run.tags if run is not None else None)


class StiggWarehouse(dg.ConfigurableResource):
    """The warehouse a run writes: where the export is read from and the warehouse written to.

    A run that uses it holds the warehouse's writer lock from start to end and builds into the
    working copy (orchestration/runtime/writer.py); a second run waits for it.
    """

    export_uri: str
    warehouse_path: str
    duckdb_memory_limit: str
    engine: str
    source: str
    _engine: Engine | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        return Settings.from_env(
            export_uri=self.export_uri,
            warehouse_path=self.warehouse_path,
            duckdb_memory_limit=self.duckdb_memory_limit,
            engine=self.engine,
            source=self.source,
        )

    def run_engine(self) -> Engine:
        """The engine this run writes with (runtime/engines/), one per run."""
        if self._engine is None:
            self._engine = open_engine(self.settings())
        return self._engine

    def run_source(self) -> Source:
        """The source this run lands from (runtime/sources/)."""
        return open_source(self.settings())

    def disk_full(self, error: BaseException, during: str) -> dg.Failure:
        """The run's failure for a disk that filled up `during` a step: the working copy is
        dropped, so the next run starts from the published warehouse (runtime/disk_space.py)."""
        self.run_engine().discard_working_copy()
        directory = self.settings().warehouse_path.parent
        return dg.Failure(disk_space.full_disk_message(directory, error, during))

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        settings = self.settings()
        try:
            with writer.writing_run(
                settings,
                context,
                self.run_engine(),
                from_scratch=is_full_refresh(context.dagster_run),
                from_published=self.run_source().redone_from_published,
            ):
                yield self
        finally:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


class PublishedWarehouse(dg.ConfigurableResource):
    """The published warehouse, for readers: opened read-only, never locked, never waited for."""

    warehouse_path: str
    engine: str

    def reader(self) -> Engine:
        """The engine over the published warehouse; a reader never starts a server."""
        settings = Settings.from_env(warehouse_path=self.warehouse_path, engine=self.engine)
        try:
            return engine_class(settings.engine).for_reading(settings)
        except EngineNotRunning as exc:
            raise dg.Failure(str(exc)) from None

    @property
    def report_path(self) -> Path:
        return Settings.from_env(warehouse_path=self.warehouse_path).report_path


def configured(field: str) -> str | dg.EnvVar:
    """A resource field's value: its environment variable when that is set, else the default."""
    variable, default = WAREHOUSE_VARIABLES[field]
    return dg.EnvVar(variable) if variable in variables_set() else default


def warehouse_resource() -> StiggWarehouse:
    return StiggWarehouse(**{field: configured(field) for field in WAREHOUSE_VARIABLES})


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": warehouse_resource(),
            "published": PublishedWarehouse(
                warehouse_path=configured("warehouse_path"), engine=configured("engine")
            ),
            "dbt": StiggDbtCli(
                project_dir=stigg_dbt_project,
                profiles_dir=str(PROJECT_ROOT),
                dbt_executable=dbt_executable(),
            ),
        },
        # One process per run: the run, not each step, holds the writer lock (runtime/writer.py).
        executor=dg.in_process_executor,
    )
