"""The resources every asset shares, and the one pool that every warehouse writer is in."""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Self

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt_project import stigg_dbt_project
from orchestration.services import warehouse, writer_lock
from orchestration.settings import PROJECT_ROOT, Settings

# DuckDB allows one writer: every asset that writes the warehouse runs in this pool (limit 1).
WAREHOUSE_POOL = "stigg_warehouse"

# A run with this tag set to "true" rebuilds the warehouse from the export alone: the working
# copy starts empty, every file lands again, and dbt runs with --full-refresh.
FULL_REFRESH_TAG = "stigg/full_refresh"


def is_full_refresh(run: dg.DagsterRun | None) -> bool:
    return run is not None and run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"


# Every run that writes says where its process lives, so a run killed with its process can be
# told from one that is alive, and failed (which frees its pool slots) instead of blocking others.
HOST_TAG = "stigg/host"
PID_TAG = "stigg/pid"

UNFINISHED_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def fail_dead_runs(instance: dg.DagsterInstance, found_by: str) -> list[str]:
    """Fail the unfinished runs of this host whose process is gone; free their pool slots."""
    failed = []
    host_runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=UNFINISHED_STATUSES, tags={HOST_TAG: socket.gethostname()})
    )
    for run in host_runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid <= 0 or _process_exists(pid):
            continue
        instance.report_run_failed(
            run, message=f"The run's process ({pid}) is gone: it was killed. Found by {found_by}."
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StiggWarehouseResource(dg.ConfigurableResource):
    """Where the export is read from and the warehouse is written to.

    Unset fields fall back to STIGG_EXPORT_URI and STIGG_WAREHOUSE_PATH, read when a run starts.
    A run that uses this resource holds the warehouse's writer lock from start to end
    (services/writer_lock.py): a second run waits for it, whoever started either.
    """

    export_uri: str | None = None
    warehouse_path: str | None = None

    def settings(self) -> Settings:
        settings = Settings.from_env()
        if self.export_uri:
            settings = replace(settings, export_uri=self.export_uri)
        if self.warehouse_path:
            settings = replace(settings, warehouse_path=Path(self.warehouse_path).absolute())
        return settings

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Self]:
        settings = self.settings()
        run_id = context.run_id or "no-run"
        with writer_lock.hold(
            settings.lock_path,
            writer_lock.holder_description(run_id),
            on_wait=lambda holder: context.log.warning(
                f"Waiting for the warehouse writer lock {settings.lock_path}, held by {holder}"
            ),
        ):
            if context.instance is not None and context.dagster_run is not None:
                context.instance.add_run_tags(run_id, process_tags())
                fail_dead_runs(context.instance, found_by=f"run {run_id}")
            warehouse.wait_until_free(
                settings.build_path,
                on_wait=lambda reason: context.log.warning(
                    f"Waiting for a process that still has the working copy open: {reason}"
                ),
            )
            full_refresh = is_full_refresh(context.dagster_run)
            if full_refresh:
                context.log.warning("Full refresh: rebuilding the warehouse from the export alone")
            warehouse.prepare_build_copy(settings, from_scratch=full_refresh)
            yield self


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "stigg": StiggWarehouseResource(),
            "dbt": DbtCliResource(project_dir=stigg_dbt_project, profiles_dir=str(PROJECT_ROOT)),
        },
        # One process per run: the writer lock is held by the run, not by each step.
        executor=dg.in_process_executor,
    )
