"""Crash safety: SIGKILL the pipeline at random points, again and again, over one export.

The published warehouse must always be readable and equal to a state that was published before,
and after a final run every table must equal that of a clean single run.
"""

from __future__ import annotations

import contextlib
import random
import signal
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import (
    WatchedRun,
    copy_new_files,
    copy_transfers,
    report_figures,
    run_cli,
    table_checksums,
)

pytestmark = pytest.mark.slow

KILLS = 20
SEED = 20261121


def _kill_around_the_rename(run: WatchedRun, warehouse: Path, after: bool) -> bool:
    """Kill the machine while the run publishes. Before the rename (`after` False): the moment
    its dbt has exited, the working copy built and the rename still to come. After it: the moment
    the published file is replaced, before the run has finished. False if the run ended first."""
    published = warehouse.stat().st_ino
    dbt_seen = False
    while run.process.poll() is None:
        with contextlib.suppress(psutil.Error):  # a process that ended while it was looked at
            if after and warehouse.stat().st_ino != published:
                break
            if not after:
                running = run.has_dbt_running()
                if dbt_seen and not running:
                    break
                dbt_seen = dbt_seen or running
        time.sleep(0.005)
    else:
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
    around_the_rename: Counter[str] = Counter()
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
            after = around_the_rename["before"] > around_the_rename["after"]
            before_kill = state
            killed = _kill_around_the_rename(run, warehouse, after)
            if killed:
                around_the_rename["after" if after else "before"] += 1
                # Before the rename nothing readers see has changed; after it, they see this
                # run's build, which is the complete export's.
                assert table_checksums(warehouse) == (clean if after else before_kill)
        else:
            delay = rng.uniform(0, 0.3 if target == "landing" else 8.0)
            killed_in = run.kill_during(target, delay, whole_group=rng.random() < 0.5)
            killed = killed_in is not None
            target = killed_in or target  # where it really was when the signal went
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
    assert set(kills) == {"landing", "dbt", "publishing"}
    assert around_the_rename["before"] > 0 and around_the_rename["after"] > 0
    report_figures(
        "kill",
        f"kill test: {sum(kills.values())} kills ({dict(kills)}; while publishing, "
        f"{dict(around_the_rename)} the rename), {completed_runs} runs "
        f"completed between them, {attempts} attempts; every table equals a clean run; rows lost: 0",
    )
