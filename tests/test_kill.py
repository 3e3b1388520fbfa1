"""Crash safety: SIGKILL the pipeline at random points, again and again, over one export.

The published warehouse must always be readable and equal to a state that was published before,
and after a final run every table must equal that of a clean single run.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import WatchedRun, copy_new_files, copy_transfers, run_cli, table_checksums

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20261121


def _kill_while_publishing(run: WatchedRun) -> bool:
    """Kill the machine the moment the publishing step starts (its checkpoint and rename take
    milliseconds, so the kill lands before, during or just after the rename); False if the run
    ended first."""
    if not run.wait_for_phase("publishing"):
        return False
    run.kill(whole_group=True)
    return run.process.returncode == -signal.SIGKILL


def test_twenty_kills_never_change_the_published_state_and_the_last_run_equals_a_clean_one(
    tmp_path, pipeline_env
):
    export, full = tmp_path / "export", tmp_path / "full"
    generate_export(full, ExportConfig(customers=300, seed=SEED % 1000, transfers=4))
    transfer_dates = sorted({p.parent.name for p in full.rglob("dt=*/*")})
    copy_transfers(full, export, set(transfer_dates[:2]))  # the first two transfers arrive first

    clean_env = dict(pipeline_env, STIGG_EXPORT_URI=str(full),
                     STIGG_WAREHOUSE_PATH=str(tmp_path / "clean" / "stigg_warehouse.duckdb"),
                     DAGSTER_HOME=str(tmp_path / "clean_home"))  # fmt: skip
    assert run_cli(["run"], clean_env).returncode == 0
    clean = table_checksums(clean_env["STIGG_WAREHOUSE_PATH"])

    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    warehouse = Path(pipeline_env["STIGG_WAREHOUSE_PATH"])
    assert run_cli(["run"], pipeline_env).returncode == 0
    published_states = [table_checksums(warehouse)]  # two transfers
    assert published_states[0] != clean
    copy_new_files(full, export)  # transfers three and four arrive

    rng = random.Random(SEED)
    plan = ["landing", "dbt", "publishing"] * KILLS
    kills: Counter[str] = Counter()
    completed_runs = 0
    attempts = 0
    state = published_states[0]
    while sum(kills.values()) < KILLS:
        attempts += 1
        assert attempts < 3 * KILLS, f"could not place {KILLS} kills: {dict(kills)}"
        target = plan[attempts - 1]
        # Once the complete state is published, a plain run has nothing to do (it starts no
        # run at all), so the next kills land in full refreshes, which rebuild from scratch.
        run = WatchedRun(pipeline_env, *(["--full-refresh"] if state == clean else []))
        if target == "publishing":
            killed = _kill_while_publishing(run)
        elif run.wait_for_phase(target):
            time.sleep(rng.uniform(0, 0.3 if target == "landing" else 8.0))
            killed = run.process.poll() is None
            if killed:
                target = run.phase  # where it really was when the signal went
                run.kill(whole_group=rng.random() < 0.5)
        else:
            killed = False
        if killed:
            kills[target] += 1
        else:
            assert run.process.wait() == 0
            completed_runs += 1

        # Always readable, always a state that was published before (or this run's complete one).
        state = table_checksums(warehouse)
        if state not in published_states:
            assert state == clean, "the published warehouse is neither its last state nor complete"
            published_states.append(state)

    final = run_cli(["run"], pipeline_env)
    assert final.returncode == 0, final.stdout[-3000:]
    assert table_checksums(warehouse) == clean
    print(
        f"\nkill test: {sum(kills.values())} kills ({dict(kills)}), {completed_runs} runs "
        f"completed between them, {attempts} attempts; every table equals a clean run; rows lost: 0"
    )
    assert set(kills) == {"landing", "dbt", "publishing"}
