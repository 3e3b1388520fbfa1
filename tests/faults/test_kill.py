"""Crash safety: SIGKILL the pipeline at random points, again and again, over one export.

The published warehouse must always be readable and equal to a state that was published before
(byte for byte when the kill came before publishing), the next run fails the killed one in
Dagster, and after a final run every table must equal that of a clean single run.

The kill points are drawn from the run's seed (`--seed`, printed in pytest's header): the
default tier draws a sample of three (one while landing, one of the CLI alone during dbt, one
while publishing, on the side of the rename the seed picks); the soak runs the full series of
twenty, with kills on both sides of the rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import signal
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import psutil
import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.builds import copy_folder, warehouse_env
from tests.support.machine import report_figures
from tests.support.runs import WatchedRun, copy_new_files, copy_transfers, run_cli
from tests.support.warehouse import table_checksums

pytestmark = pytest.mark.slow

KILLS = 20  # the full series (the soak tier)
SAMPLED_KILLS = 3  # the default tier's sample: landing, dbt, publishing
EXPORT_SEED = 121


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


def test_a_sample_of_kills_never_changes_the_published_state_and_the_last_run_equals_a_clean_one(
    tmp_path, three_transfers_build, seed
):
    """On a copy of the run's shared build of three transfers, its fourth arriving."""
    env = three_transfers_build.copy(tmp_path)
    full = copy_folder(Path(env["STIGG_EXPORT_URI"]), tmp_path / "full")
    copy_new_files(three_transfers_build.later, full)  # the export once its fourth has arrived
    clean = _clean_build(full, tmp_path)
    figures = _kill_series(env, full, clean, SAMPLED_KILLS, seed)
    report_figures("kill_sample", f"{figures} (seed {seed})")


@pytest.mark.soak
def test_twenty_kills_never_change_the_published_state_and_the_last_run_equals_a_clean_one(
    tmp_path, pipeline_env, seed
):
    """300 customers in four transfers: the first two published, then the last two arrive."""
    export, full = tmp_path / "export", tmp_path / "full"
    generate_export(full, ExportConfig(customers=300, seed=EXPORT_SEED, transfers=4))
    transfer_dates = sorted({p.parent.name for p in full.rglob("dt=*/*")})
    copy_transfers(full, export, set(transfer_dates[:2]))
    clean = _clean_build(full, tmp_path)
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    assert run_cli(["run"], pipeline_env).returncode == 0
    figures = _kill_series(pipeline_env, full, clean, KILLS, seed)
    report_figures("kill", f"{figures} (seed {seed})")


def _clean_build(full: Path, tmp_path: Path) -> dict:
    """The table checksums of one clean run of the whole export."""
    clean_env = warehouse_env(tmp_path / "clean", STIGG_EXPORT_URI=str(full))
    result = run_cli(["run"], clean_env)
    assert result.returncode == 0, result.stdout[-3000:]
    return table_checksums(clean_env["STIGG_WAREHOUSE_PATH"])


def _kill_series(
    pipeline_env: dict[str, str], full: Path, clean: dict, kills_wanted: int, seed: int
) -> str:
    """A published warehouse of some of `full`'s transfers; the rest arrive, and runs are
    killed `kills_wanted` times at points drawn from `seed`, cycling through landing, dbt and
    publishing; every check of the module's docstring; the series' figures line."""
    export = Path(pipeline_env["STIGG_EXPORT_URI"])
    warehouse = Path(pipeline_env["STIGG_WAREHOUSE_PATH"])
    published_states = [table_checksums(warehouse)]  # before the last transfers
    assert published_states[0] != clean
    copy_new_files(full, export)  # the last transfers arrive

    rng = random.Random(seed)
    # The phases in turn; a kill the run outpaced is tried again in the same phase.
    plan = ["landing", "dbt", "publishing"] * kills_wanted
    full_series = kills_wanted >= 6
    kills: Counter[str] = Counter()
    around_the_rename: Counter[str] = Counter()
    completed_runs = 0
    attempts = 0
    state = published_states[0]
    killed_runs: list[str] = []
    while sum(kills.values()) < kills_wanted:
        attempts += 1
        assert attempts < 3 * kills_wanted, f"could not place {kills_wanted} kills: {dict(kills)}"
        target = plan[sum(kills.values())]
        # Once the complete state is published, a plain run has nothing to do (it starts no
        # run at all), so the next kills land in full refreshes, which rebuild from scratch.
        published_bytes = _digest(warehouse)
        run = WatchedRun(pipeline_env, *(["--full-refresh"] if state == clean else []))
        if target == "publishing":
            # The full series alternates the sides of the rename; a sample draws one.
            if full_series:
                after = around_the_rename["before"] > around_the_rename["after"]
            else:
                after = rng.random() < 0.5
            before_kill = state
            killed = _kill_around_the_rename(run, warehouse, after)
            if killed:
                around_the_rename["after" if after else "before"] += 1
                # Before the rename nothing readers see has changed; after it, they see this
                # run's build, which is the complete export's.
                assert table_checksums(warehouse) == (clean if after else before_kill)
                if not after:
                    assert _digest(warehouse) == published_bytes
        else:
            delay = rng.uniform(0, 0.3 if target == "landing" else 8.0)
            # The machine dies (the whole group), or `kill -9` of the CLI leaves dbt running;
            # the sample kills the CLI alone mid-dbt, the full series draws.
            whole_group = rng.random() < 0.5 if full_series else target == "landing"
            killed_in = run.kill_during(target, delay, whole_group=whole_group)
            killed = killed_in is not None
            target = killed_in or target  # where it really was when the signal went
            if killed:  # before publishing: not a byte of the published file changed
                assert _digest(warehouse) == published_bytes
        if killed:
            kills[target] += 1
            killed_runs.extend(run.run_ids())
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
    if full_series:
        assert around_the_rename["before"] > 0 and around_the_rename["after"] > 0
    # Each killed run is failed in Dagster by the next run that starts (it finds the run's
    # process gone), its pool slot freed. A final run with nothing new starts no run.
    if "no run started" in final.stdout:
        killed_runs = killed_runs[:-1]
    with dg.DagsterInstance.from_config(pipeline_env["DAGSTER_HOME"]) as instance:
        statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in killed_runs}
    assert statuses and set(statuses.values()) == {dg.DagsterRunStatus.FAILURE}, statuses
    return (
        f"kill test: {sum(kills.values())} kills ({dict(kills)}; while publishing, "
        f"{dict(around_the_rename)} the rename), {completed_runs} runs "
        f"completed between them, {attempts} attempts; every table equals a clean run; rows lost: 0"
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
