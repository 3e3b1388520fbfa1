"""Runs are idempotent, a new transfer lands only its files, and a full refresh from scratch
equals the incremental history."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.runs import copy_new_files, run_cli, temporary_environment
from tests.support.warehouse import query, table_checksums

pytestmark = pytest.mark.slow


def _fourth_transfer(three_transfers_build, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A copy of the published three transfers; the fourth arrives and a run lands it
    incrementally: only its files."""
    pipeline_env = three_transfers_build.copy(tmp_path)
    export = Path(pipeline_env["STIGG_EXPORT_URI"])
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    landed_before = query(warehouse, "SELECT count(*) FROM meta.landed_files")[0][0]
    assert landed_before == sum(1 for p in export.rglob("*") if p.is_file())
    new_files = copy_new_files(three_transfers_build.later, export)
    assert new_files
    fourth = run_cli(["run"], pipeline_env)
    assert fourth.returncode == 0, fourth.stdout[-3000:]
    second_load = query(
        warehouse,
        "SELECT path FROM meta.landed_files WHERE load_id <> "
        "(SELECT min_by(load_id, recorded_at) FROM meta.landed_files) ORDER BY path",
    )
    assert [path for (path,) in second_load] == new_files  # only its files landed
    return pipeline_env, export


def test_a_new_transfer_lands_only_its_files_and_a_second_run_changes_nothing(
    three_transfers_build, tmp_path
):
    pipeline_env, _ = _fourth_transfer(three_transfers_build, tmp_path)
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    incremental = table_checksums(warehouse)
    assert incremental["stigg.CUSTOMERS"][0] > 0 and incremental["raw.customers"][0] > 0

    again = run_cli(["run"], pipeline_env)
    assert again.returncode == 0
    assert "Nothing new in" in again.stdout and "no run started" in again.stdout
    assert table_checksums(warehouse) == incremental


@pytest.mark.ci
def test_a_run_with_nothing_new_skips_and_a_full_refresh_equals_the_incremental_history(
    three_transfers_build, tmp_path
):
    pipeline_env, export = _fourth_transfer(three_transfers_build, tmp_path)
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    incremental = table_checksums(warehouse)

    # A run that Dagster starts (schedule, sensor, UI) with nothing new lands nothing, skips dbt,
    # the reconciliation and publishing, and changes no byte of the published warehouse.
    published_before = Path(warehouse).read_bytes()
    skipped, logs = _run_job_in_process(pipeline_env, tmp_path / "in_process_home")
    assert skipped.success
    materialized = {
        e.asset_key.to_user_string() for e in skipped.get_asset_materialization_events()
    }
    assert materialized and all(key.startswith("raw/") for key in materialized), materialized
    assert not [
        e
        for e in skipped.get_asset_check_evaluations()
        if e.check_name.startswith("stigg_reconciles_with_raw")
    ]
    assert "dbt skipped" in logs
    assert "Skipping step warehouse__published due to skipped dependencies" in logs
    assert Path(warehouse).read_bytes() == published_before

    refresh = run_cli(["run", "--full-refresh"], pipeline_env)
    assert refresh.returncode == 0, refresh.stdout[-3000:]
    assert "Full refresh" in refresh.stdout
    assert f"Landed {sum(1 for p in export.rglob('*') if p.is_file())} new files" in refresh.stdout
    assert table_checksums(warehouse) == incremental


def _run_job_in_process(env: dict[str, str], dagster_home: Path):
    """The `stigg_elt` job in this process, as the daemon would run it for a schedule; the result
    and every log message of the run."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.automation import STIGG_ELT_JOB

    dagster_home.mkdir()
    stigg = {k: v for k, v in env.items() if k.startswith("STIGG_")}
    with temporary_environment(stigg), dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = defs().resolve_job_def(STIGG_ELT_JOB).execute_in_process(instance=instance)
        logs = " ".join(entry.user_message for entry in instance.all_logs(result.run_id))
        return result, logs
