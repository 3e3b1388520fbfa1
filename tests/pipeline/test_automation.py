"""The new-file sensor and the writer lock, evaluated against real exports and a real instance."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.automation import SENSOR_NAME, STIGG_ELT_JOB
from orchestration.runtime import writer
from orchestration.runtime.run_tags import PID_TAG, process_tags
from orchestration.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT, Settings
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.runs import copy_new_files
from tests.support.warehouse import query


@pytest.fixture
def watched(tmp_path, monkeypatch):
    """An export of 3 transfers, the same export with a 4th, and settings pointing at the first."""
    export, later = tmp_path / "export", tmp_path / "later"
    generate_export(export, ExportConfig(customers=20, seed=5, transfers=3, events_per_customer=2))
    generate_export(later, ExportConfig(customers=20, seed=5, transfers=4, events_per_customer=2))
    monkeypatch.setenv("STIGG_EXPORT_URI", str(export))
    monkeypatch.setenv("STIGG_WAREHOUSE_PATH", str(tmp_path / "wh" / "stigg_warehouse.duckdb"))
    return export, later


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance):
    result = sensor(dg.build_sensor_context(instance=instance))
    if isinstance(result, dg.SkipReason):
        return [], result.skip_message
    return result.run_requests, result.cursor


@pytest.mark.slow
@pytest.mark.ci
def test_sensor_requests_one_run_per_new_transfer_and_the_run_lands_exactly_it(watched):
    export, later = watched
    definitions = defs()
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    job = definitions.resolve_job_def(STIGG_ELT_JOB)
    settings = Settings.from_env()
    with dg.instance_for_test() as instance:
        requests, _ = _tick(sensor, instance)
        assert len(requests) == 1  # nothing published yet: everything is new
        assert job.execute_in_process(instance=instance, tags=requests[0].tags).success
        assert _tick(sensor, instance) == ([], "No new export files.")

        new_files = copy_new_files(later, export)
        assert new_files
        requests, cursor = _tick(sensor, instance)
        assert len(requests) == 1
        assert requests[0].tags["stigg/new_files"] == str(len(new_files))
        assert cursor == requests[0].run_key
        # The same files again give the same run key, which Dagster never runs twice.
        assert _tick(sensor, instance)[0][0].run_key == requests[0].run_key

        result = job.execute_in_process(instance=instance, tags=requests[0].tags)
        assert result.success
        landed = query(
            settings.warehouse_path,
            "SELECT path FROM meta.landed_files WHERE load_id = ? ORDER BY path",
            [result.run_id],
        )
        assert [r[0] for r in landed] == new_files
        assert _tick(sensor, instance) == ([], "No new export files.")


def test_sensor_waits_while_a_run_holds_the_writer_lock_and_then_sees_the_files(watched):
    sensor = defs().resolve_sensor_def(SENSOR_NAME)
    settings = Settings.from_env()
    with dg.instance_for_test() as instance:
        with writer.hold(settings.lock_path, "a run in another process"):
            requests, reason = _tick(sensor, instance)
            assert requests == [] and "in progress" in reason
        requests, _ = _tick(sensor, instance)
        assert len(requests) == 1  # the files that arrived meanwhile are not missed


def test_sensor_waits_while_a_run_is_requested_but_not_started(watched):
    definitions = defs()
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    with dg.instance_for_test() as instance:
        instance.create_run_for_job(
            definitions.resolve_job_def(STIGG_ELT_JOB), status=dg.DagsterRunStatus.NOT_STARTED
        )
        requests, reason = _tick(sensor, instance)
        assert requests == [] and "queued or in progress" in reason


def test_a_run_whose_process_was_killed_is_failed_and_stops_blocking(watched):
    definitions = defs()
    sensor = definitions.resolve_sensor_def(SENSOR_NAME)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with dg.instance_for_test() as instance:
        dead = instance.create_run_for_job(
            definitions.resolve_job_def(STIGG_ELT_JOB),
            status=dg.DagsterRunStatus.STARTED,
            tags={**process_tags(), PID_TAG: str(gone.pid)},
        )
        alive = instance.create_run_for_job(
            definitions.resolve_job_def(STIGG_ELT_JOB),
            status=dg.DagsterRunStatus.STARTED,
            tags=process_tags(),  # this test's own process: alive
        )
        assert writer.fail_dead_runs(instance, found_by="test") == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        instance.report_run_failed(instance.get_run_by_id(alive.run_id))
        requests, _ = _tick(sensor, instance)
        assert len(requests) == 1


def test_sensor_skips_an_export_location_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("STIGG_EXPORT_URI", str(tmp_path / "nowhere"))
    monkeypatch.setenv("STIGG_WAREHOUSE_PATH", str(tmp_path / "wh" / "stigg_warehouse.duckdb"))
    with dg.instance_for_test() as instance:
        requests, reason = _tick(defs().resolve_sensor_def(SENSOR_NAME), instance)
    assert requests == [] and "does not exist" in reason


def test_writer_lock_makes_a_second_holder_wait(tmp_path):
    lock = tmp_path / "w.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"""
import time
from pathlib import Path
from orchestration.runtime import writer
with writer.hold(Path({str(lock)!r}), "first"):
    print("held", flush=True)
    time.sleep(2)
"""],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    assert writer.is_held(lock)
    waited_for: list[str] = []
    started = time.monotonic()
    with writer.hold(lock, "second", on_wait=waited_for.append):
        waited = time.monotonic() - started
        assert writer.current_holder(lock) == "second"
    holder.wait(timeout=10)
    assert waited_for == ["first"] and waited > 0.5
    assert not writer.is_held(lock)


@pytest.mark.slow
@pytest.mark.ci
def test_the_daemon_starts_exactly_one_run_for_a_new_transfer(watched, tmp_path):
    """The real dagster-daemon, with the sensor on: one run, the new files, no duplicates."""
    export, later = watched
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
    env.update(
        DAGSTER_HOME=str(home), STIGG_SENSOR_ENABLED="true", STIGG_SENSOR_INTERVAL_SECONDS="2"
    )
    first = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-2000:]
    new_files = copy_new_files(later, export)

    daemon = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions",
         "-h", "127.0.0.1", "-p", "0"],
        env=env, cwd=PROJECT_ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        sensor_runs = _wait_for_sensor_runs_to_finish(home, timeout=300)
        time.sleep(8)  # several more ticks: none may start another run
        sensor_runs = _wait_for_sensor_runs_to_finish(home, timeout=60)
    finally:
        _stop_group(daemon)
    assert len(sensor_runs) == 1, [(r.run_id, r.status) for r in sensor_runs]
    run = sensor_runs[0]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["stigg/new_files"] == str(len(new_files))
    landed = query(
        Settings.from_env().warehouse_path,
        "SELECT path FROM meta.landed_files WHERE load_id = ? ORDER BY path",
        [run.run_id],
    )
    assert [r[0] for r in landed] == new_files


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the dev server's process group; SIGKILL what is still there after a minute.

    Stopping is not what this test checks (test_ui checks Ctrl-C), but it must leave nothing
    running: once, under CI load, `dagster dev` took over a minute to exit after SIGTERM.
    """
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _wait_for_sensor_runs_to_finish(home: Path, timeout: float) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + timeout
    while True:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"stigg/started_by": "sensor"}))
        if runs and all(r.is_finished for r in runs):
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(
                f"sensor runs did not finish: {[(r.run_id, r.status) for r in runs]}"
            )
        time.sleep(2)
