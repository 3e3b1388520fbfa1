"""Runs are idempotent, and a full refresh from scratch equals the incremental history."""

from __future__ import annotations

import pytest

from orchestration.services.sample_export import ExportConfig, generate_export
from tests.conftest import run_cli, table_checksums
from tests.test_automation import _copy_new_files

pytestmark = pytest.mark.slow


def test_a_second_run_changes_nothing_and_a_full_refresh_equals_the_incremental_history(
    tmp_path, pipeline_env
):
    export, later = tmp_path / "export", tmp_path / "later"
    generate_export(export, ExportConfig(customers=30, seed=13, transfers=3))
    generate_export(later, ExportConfig(customers=30, seed=13, transfers=4))
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]

    assert run_cli(["run"], pipeline_env).returncode == 0
    assert _copy_new_files(later, export)
    assert run_cli(["run"], pipeline_env).returncode == 0  # the fourth transfer, incrementally
    incremental = table_checksums(warehouse)
    assert incremental["stigg.CUSTOMERS"][0] > 0 and incremental["raw.customers"][0] > 0

    again = run_cli(["run"], pipeline_env)
    assert again.returncode == 0
    assert "Landed 0 new files" in again.stdout
    assert table_checksums(warehouse) == incremental

    refresh = run_cli(["run", "--full-refresh"], pipeline_env)
    assert refresh.returncode == 0, refresh.stdout[-3000:]
    assert "Full refresh" in refresh.stdout
    assert f"Landed {sum(1 for p in export.rglob('*') if p.is_file())} new files" in refresh.stdout
    assert table_checksums(warehouse) == incremental
