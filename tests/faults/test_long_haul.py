"""The long haul (tests/support/long_haul.py) on the S preset's 30 transfers: each landed by its own run,
through object storage that fails now and then, with SIGKILLs at random points in between. At the
end the warehouse equals one clean full build of the same 30 transfers, table by table (raw,
staging, the documented tables, history and analytics): no row lost, none twice."""

from __future__ import annotations

import pytest

from orchestration.synthetic.scale_export import PRESETS, generate_scale_export
from tests.support.long_haul import run_long_haul, s3_env
from tests.support.machine import report_figures
from tests.support.runs import run_cli
from tests.support.warehouse import query, table_checksums

pytestmark = [pytest.mark.slow, pytest.mark.soak]
SEED = 20261202
TRANSFERS = 30  # the S preset's
KILLS = 6


def test_thirty_transfers_with_kills_and_s3_faults_equal_one_clean_build(
    tmp_path, pipeline_env, s3_server
):
    full = tmp_path / "full"
    generate_scale_export(full, PRESETS["S"], progress=False)
    warehouse, figures = run_long_haul(
        full, tmp_path, s3_server, pipeline_env, seed=SEED, kills=KILLS
    )

    clean_warehouse = tmp_path / "clean" / "stigg_warehouse.duckdb"
    clean_env = s3_env(pipeline_env, s3_server, clean_warehouse, tmp_path / "clean_home")
    clean_run = run_cli(["run"], clean_env)
    assert clean_run.returncode == 0, clean_run.stdout[-3000:]
    # Every table equal, but the manifest, which keeps the failed attempt's row.
    clean, after = table_checksums(clean_warehouse), table_checksums(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.landed_files"} == {
        k: v for k, v in clean.items() if k != "meta.landed_files"
    }
    landed = "SELECT path, status FROM meta.landed_files WHERE status = 'landed' ORDER BY ALL"
    assert query(warehouse, landed) == query(clean_warehouse, landed)

    assert figures.transfers == 30
    assert (
        set(figures.kills) <= {"landing", "dbt", "publishing"} and sum(figures.kills.values()) >= 5
    )
    assert sum(figures.faults.values()) >= 8 and len(figures.failed_files) == 1
    assert figures.restarted
    report_figures("long_haul", f"{figures.line()}; every table equals a clean build; rows lost: 0")
