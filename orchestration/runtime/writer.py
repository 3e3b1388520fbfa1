"""One writer per warehouse: the lock, the wait, the dead-run reaper and the working copy.

Every run that writes the warehouse holds its writer lock (`<warehouse>.lock`, an OS file lock
through `filelock`) from its start to its end, however it was started (CLI, UI, schedule,
sensor) and whatever DAGSTER_HOME it uses. A second run waits for it (it never fails on a lock),
so two runs never interleave their landing, dbt and publishing. The kernel releases the lock
when its holder exits, however it exits.

It is the one mechanism. Dagster's pools limit steps, not runs, and only on an instance that
ships a pool limit; the lock covers runs on any instance. The job runs in one process (the
in-process executor) so that the run, not each step, holds it; a run whose steps would start
in other processes fails at its second start instead of writing beside the first.

Holding it for a run also:
- fails the runs of this host whose process is gone (killed), so they stop counting as in
  progress, and frees the slots they held;
- waits while the dbt that a killed run left building still runs (its pid is recorded beside the
  lock);
- enters the engine's working copy (engines/base.py: on DuckDB, it also waits while any other
  process still has the file open, and checks the disk).
Readers (the report, analysts) never take it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psutil
from filelock import FileLock, Timeout

from orchestration.runtime.engines.base import Engine
from orchestration.runtime.run_tags import HOST_TAG, PID_TAG, process_exists, process_tags
from orchestration.runtime.waiting import wait_while
from orchestration.settings import Settings

POLL_SECONDS = 0.5
UNFINISHED_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
IN_FLIGHT_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    *UNFINISHED_STATUSES,
]


def holder_description(run_id: str) -> str:
    return json.dumps(
        {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".holder")


def current_holder(lock_path: Path) -> str:
    """Who holds (or last held) the lock, as written by the holder; '' when unknown."""
    try:
        return _holder_path(lock_path).read_text().strip()
    except OSError:
        return ""


@contextmanager
def hold(
    lock_path: Path, holder: str, on_wait: Callable[[str], None] = lambda holder: None
) -> Iterator[None]:
    """Hold the lock for the block; wait (never fail) while someone else holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        on_wait(current_holder(lock_path))
        lock.acquire(poll_interval=POLL_SECONDS)
    try:
        _holder_path(lock_path).write_text(holder)
        yield
    finally:
        lock.release()


def is_held(lock_path: Path) -> bool:
    """Whether a writer holds the lock right now."""
    if not lock_path.exists():
        return False
    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def fail_dead_runs(instance: dg.DagsterInstance, found_by: str) -> list[str]:
    """Fail the unfinished runs of this host whose process is gone; free their slots."""
    failed = []
    host_runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=UNFINISHED_STATUSES, tags={HOST_TAG: socket.gethostname()})
    )
    for run in host_runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid <= 0 or process_exists(pid):
            continue
        instance.report_run_failed(
            run, message=f"The run's process ({pid}) is gone: it was killed. Found by {found_by}."
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def busy_reason(instance: dg.DagsterInstance, settings: Settings, found_by: str) -> str | None:
    """Why a new run would have to wait now (one is queued, in progress or holds the lock), or
    None. Dead runs are failed first, so they do not count."""
    fail_dead_runs(instance, found_by=found_by)
    if instance.get_run_ids(filters=dg.RunsFilter(statuses=IN_FLIGHT_STATUSES), limit=1):
        return "A run is queued or in progress"
    if is_held(settings.lock_path):
        return f"A run is in progress: it holds {settings.lock_path}"
    return None


@contextmanager
def writing_run(
    settings: Settings,
    context: dg.InitResourceContext,
    engine: Engine,
    *,
    from_scratch: bool,
    from_published: bool,
) -> Iterator[None]:
    """Everything a run does before and while it writes: the lock, the reaper, the wait for a
    process left behind, and the engine's working copy (from scratch for a full refresh; from the
    published warehouse for a source whose run is redone, never resumed)."""
    run_id = context.run_id or "no-run"
    log = context.log

    def report(message: str) -> None:
        if log is not None:
            log.warning(message)

    def inform(message: str) -> None:
        if log is not None:
            log.info(message)
        else:
            print(message)

    with hold(
        settings.lock_path,
        holder_description(run_id),
        on_wait=lambda holder: report(
            f"Waiting for the warehouse writer lock {settings.lock_path}, held by {holder}"
        ),
    ):
        if context.instance is not None and context.dagster_run is not None:
            _claim_run(context.instance, context.dagster_run)
            fail_dead_runs(context.instance, found_by=f"run {run_id}")
        if from_scratch:
            report("Full refresh: rebuilding the warehouse from the export alone")
        wait_until_builder_is_gone(settings.builder_pid_path, report)
        with engine.working_copy(
            from_scratch=from_scratch, from_published=from_published, report=report, log=inform
        ):
            yield


def _claim_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Tag the run with this process; refuse a second, live process for the same run."""
    pid = int(run.tags.get(PID_TAG, "0"))
    same_host = run.tags.get(HOST_TAG) == socket.gethostname()
    if same_host and pid not in (0, os.getpid()) and process_exists(pid):
        raise dg.Failure(
            f"Run {run.run_id} already writes the warehouse from process {pid}: the stigg_elt "
            "job must run in one process (the in-process executor), which holds the writer lock "
            "for the whole run."
        )
    instance.add_run_tags(run.run_id, process_tags())


def record_builder(pid_path: Path, pid: int) -> None:
    """The dbt process that builds now. A run killed while it builds leaves it running, and the
    next run waits for it before it prepares the working copy (DuckDB) or the build slot (Spark).
    The wait goes by the process, not by DuckDB's file lock: a dbt that has just started has not
    opened the working copy yet. Its start time is kept with its pid, so that a pid the system has
    since given to another process is not waited for."""
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:  # it has already ended: nothing to wait for
        return
    pid_path.write_text(f"{pid} {started!r}")


def clear_builder(pid_path: Path) -> None:
    pid_path.unlink(missing_ok=True)


def recorded_builder(pid_path: Path) -> int | None:
    """The pid of the recorded dbt if it still runs, else None."""
    try:
        pid_text, started_text = pid_path.read_text().split()
        pid, started = int(pid_text), float(started_text)
    except (OSError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        # Within a second: the kernel's boot time, from which start times are computed, can
        # move by one as the clock is adjusted.
        same = abs(process.create_time() - started) < 1
        running = same and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return None
    return pid if running else None


def wait_until_builder_is_gone(pid_path: Path, report: Callable[[str], None]) -> None:
    """Wait while the dbt that a killed run left building still runs."""

    def builder() -> str | None:
        pid = recorded_builder(pid_path)
        return None if pid is None else f"dbt (pid {pid}), left building by a killed run, to finish"

    wait_while(builder, report)
    clear_builder(pid_path)
