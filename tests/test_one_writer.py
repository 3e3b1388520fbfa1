"""One writer, analyst-safe publishing: concurrent runs, a reader that holds the file, SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import copy_new_files, query, run_cli

pytestmark = pytest.mark.slow

STATE_SQL = (
    "SELECT (SELECT count(*) FROM raw.customers), (SELECT count(*) FROM stigg.CUSTOMERS), "
    "(SELECT count(*) FROM meta.landed_files)"
)

READER = """
import json, sys, time
from pathlib import Path
import duckdb
warehouse, out, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
held = duckdb.connect(warehouse, read_only=True)  # opened once, before the runs, kept open
with out.open("w") as log:
    while not stop.exists():
        sample = {"held": held.execute(sys.argv[4]).fetchone()}
        try:
            with duckdb.connect(warehouse, read_only=True) as fresh:
                sample["fresh"] = fresh.execute(sys.argv[4]).fetchone()
        except Exception as exc:  # what an analyst opening the file mid-run would see
            sample["error"] = repr(exc)
        log.write(json.dumps(sample) + "\\n")
        log.flush()
        time.sleep(0.1)
"""


@pytest.fixture
def published_export(tmp_path, pipeline_env):
    """A published warehouse of 3 transfers, and a 4th transfer added to the export since."""
    export, later = tmp_path / "export", tmp_path / "later"
    generate_export(export, ExportConfig(customers=30, seed=21, transfers=3))
    generate_export(later, ExportConfig(customers=30, seed=21, transfers=4))
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    first = run_cli(["run"], pipeline_env)
    assert first.returncode == 0, first.stdout[-3000:]
    new_files = copy_new_files(later, export)
    return pipeline_env, new_files


def _start_cli_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _run_id(output: str) -> str:
    """The run id from the CLI's line `Run <id>: <export> → <warehouse>`."""
    return re.search(r"^Run ([0-9a-f-]{36}):", output, flags=re.M).group(1)


def _step_window(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run's first step started and its last step ended."""
    stamps = [
        record.event_log_entry.timestamp
        for record in instance.get_records_for_run(run_id, limit=100000).records
        if record.event_log_entry.dagster_event
        and record.event_log_entry.dagster_event.event_type
        in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS)
    ]
    return min(stamps), max(stamps)


@pytest.mark.parametrize("dagster_yaml", ["ours", "none"])
def test_two_runs_at_once_take_turns_while_a_reader_keeps_the_published_state(
    published_export, tmp_path, dagster_yaml
):
    env, new_files = published_export
    if dagster_yaml == "ours":
        shutil.copyfile(
            DEFAULT_DAGSTER_HOME / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml"
        )
    warehouse = env["STIGG_WAREHOUSE_PATH"]
    before = query(warehouse, STATE_SQL)[0]

    samples, stop = tmp_path / "reader.jsonl", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, warehouse, str(samples), str(stop), STATE_SQL]
    )
    while not samples.exists() or not samples.read_text():
        time.sleep(0.1)
    runs = [_start_cli_run(env), _start_cli_run(env)]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    stop.touch()
    reader.wait(timeout=30)

    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    assert any("Waiting for the warehouse writer lock" in output for output in outputs)
    after = query(warehouse, STATE_SQL)[0]
    assert after[0] > before[0] and after[2] == before[2] + len(new_files)

    # The runs took turns: no step of one ran while the other had steps to run.
    run_ids = [_run_id(output) for output in outputs]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        first, second = sorted(_step_window(instance, run_id) for run_id in run_ids)
    assert first[1] <= second[0]

    # The reader was never blocked and never saw a half-built warehouse.
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(lines) > 20
    assert all(tuple(s["held"]) == before for s in lines)  # its open connection: unchanged
    assert not [s for s in lines if "error" in s]
    assert {tuple(s["fresh"]) for s in lines} <= {before, after}


def test_a_run_killed_mid_build_changes_nothing_published_and_the_next_run_completes(
    published_export,
):
    env, new_files = published_export
    shutil.copyfile(
        DEFAULT_DAGSTER_HOME / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml"
    )
    warehouse = Path(env["STIGG_WAREHOUSE_PATH"])
    published_bytes = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    before = query(warehouse, STATE_SQL)[0]

    victim = _start_cli_run(env)
    first_lines = ""
    while not re.search(r"^Run [0-9a-f-]{36}:", first_lines, flags=re.M):
        first_lines += victim.stdout.readline()
    run_id = _run_id(first_lines)
    for line in victim.stdout:
        if line.startswith("▸ dbt build"):
            break  # landing has committed into the working copy; dbt is running
    time.sleep(2)
    os.kill(victim.pid, signal.SIGKILL)  # `kill -9 <pid>`: dbt, its child, is left running
    victim.wait()

    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published_bytes
    assert query(warehouse, STATE_SQL)[0] == before

    retry = run_cli(["run"], env)
    assert retry.returncode == 0, retry.stdout[-3000:] + retry.stderr[-3000:]
    assert query(warehouse, STATE_SQL)[0][2] == before[2] + len(new_files)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        killed = instance.get_run_by_id(run_id)
        assert killed.status == dg.DagsterRunStatus.FAILURE  # found dead, its pool slot freed
