"""The wait for the dbt that a killed run left building: by its pid and start time, with real
processes (the whole runs that meet it are in tests/faults/test_kill.py and tests/faults/test_long_haul.py)."""

from __future__ import annotations

import os
import subprocess

import psutil

from orchestration.runtime.writer import (
    record_builder,
    recorded_builder,
    wait_until_builder_is_gone,
)


def test_the_next_run_waits_for_a_recorded_builder_until_it_has_ended(tmp_path):
    pid_path = tmp_path / "w.duckdb.lock.dbt"
    builder = subprocess.Popen(["sleep", "1.5"])
    record_builder(pid_path, builder.pid)
    assert recorded_builder(pid_path) == builder.pid

    reports: list[str] = []
    wait_until_builder_is_gone(pid_path, reports.append)

    assert builder.poll() is not None  # ended (a zombie of this test: it no longer builds)
    assert reports == [
        f"Waiting for dbt (pid {builder.pid}), left building by a killed run, to finish"
    ]
    assert not pid_path.exists()


def test_a_pid_that_now_names_another_process_is_not_waited_for(tmp_path):
    pid_path = tmp_path / "w.duckdb.lock.dbt"
    started = psutil.Process(os.getpid()).create_time()
    pid_path.write_text(f"{os.getpid()} {started - 60!r}")  # the recorded dbt started earlier

    reports: list[str] = []
    wait_until_builder_is_gone(pid_path, reports.append)

    assert reports == []
    assert not pid_path.exists()


def test_a_builder_that_has_already_ended_is_not_recorded(tmp_path):
    pid_path = tmp_path / "w.duckdb.lock.dbt"
    builder = subprocess.Popen(["true"])
    builder.wait()
    record_builder(pid_path, builder.pid)
    assert not pid_path.exists()
    assert recorded_builder(pid_path) is None
