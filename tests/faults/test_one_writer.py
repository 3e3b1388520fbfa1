"""One writer, analyst-safe publishing: concurrent runs take turns while a reader holds the file.
(A SIGKILL mid-build: tests/faults/test_kill.py.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.settings import DEFAULT_DAGSTER_HOME, PROJECT_ROOT
from tests.support.runs import copy_new_files
from tests.support.warehouse import query

pytestmark = [pytest.mark.slow, pytest.mark.ci]

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
def published_export(three_transfers_build, tmp_path):
    """A copy of a published warehouse of 3 transfers, and a 4th transfer added to its export."""
    env = three_transfers_build.copy(tmp_path)
    new_files = copy_new_files(three_transfers_build.later, Path(env["STIGG_EXPORT_URI"]))
    return env, new_files


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
