"""Incremental builds equal full builds, table by table, through the cases that make merging hard.

The export arrives in three steps: transfers 1-3; transfers 4-6 plus hand-written events; and one
more file. Between them an event goes from valid to rejected and back, a NULL-key event arrives,
and a new environment appears. After each step the incremental warehouse must equal a warehouse
built from scratch on the same files.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.settings import Settings
from orchestration.synthetic.scale_export import Preset, generate_scale_export
from tests.support.runs import run_cli
from tests.support.warehouse import query, table_checksums

pytestmark = [pytest.mark.slow, pytest.mark.ci]

EVENT = "usage_events_id_7"  # the generator's event 7 (scale_export.key_value)
NEW_ENVIRONMENT = "env-added-later"


def _event(id_: str | None, transfer_at: str, **changes) -> dict:
    row = {
        "ID": id_, "CUSTOMER_ID": "customer_ref_3", "RESOURCE_ID": None, "EVENT_NAME": "api_call",
        "CREATED_AT": transfer_at, "TIMESTAMP": transfer_at, "DIMENSIONS": "{}",
        "IDEMPOTENCY_KEY": f"idem-{id_}", "ENVIRONMENT_ID": "8f14e45f-ceea-467a-9575-b2d8f0b9a3c1",
    }  # fmt: skip
    row.update(changes)
    return row


def _write_events(export: Path, dt: str, stamp: str, rows: list[dict]) -> None:
    folder = export / "usage_events" / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    pq.write_table(
        pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns}),
        folder / f"0000_{stamp}.parquet",
    )


def _copy_transfers(source: Path, export: Path, dts: list[str]) -> None:
    for folder in source.glob("*/dt=*"):
        if folder.name.removeprefix("dt=") in dts:
            shutil.copytree(folder, export / folder.relative_to(source), dirs_exist_ok=True)


def _compiled_code(env: dict[str, str], stdout: str, unique_id: str) -> str:
    """The SQL dbt ran for a node in the run whose id `stigg-warehouse run` printed first."""
    run_id = re.search(r"^Run ([0-9a-f-]{36}):", stdout, re.MULTILINE).group(1)
    (results,) = Settings.from_env(env).dbt_target_dir.glob(
        f"stigg_dbt_models-{run_id[:7]}-*/run_results.json"
    )
    nodes = {r["unique_id"]: r for r in json.loads(results.read_text())["results"]}
    return nodes[unique_id]["compiled_code"]


def _from_scratch(export: Path, tmp_path: Path, env: dict[str, str], name: str) -> dict:
    full_env = {
        **env,
        "STIGG_EXPORT_URI": str(export),
        "STIGG_WAREHOUSE_PATH": str(tmp_path / name / "stigg_warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / f"{name}_home"),
    }
    result = run_cli(["run"], full_env)
    assert result.returncode == 0, result.stdout[-3000:]
    return table_checksums(full_env["STIGG_WAREHOUSE_PATH"])


def test_incremental_runs_equal_full_builds_after_every_step(tmp_path, pipeline_env):
    source, export = tmp_path / "generated", tmp_path / "export"
    generate_scale_export(
        source, Preset(customers=60, usage_events=3_000, transfers=6), progress=False
    )
    dts = sorted({p.name.removeprefix("dt=") for p in source.glob("*/dt=*")})
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]

    # Step 1: transfers 1-3, a full build (the incremental tables do not exist yet).
    _copy_transfers(source, export, dts[:3])
    assert run_cli(["run"], pipeline_env).returncode == 0
    assert query(warehouse, f"SELECT count(*) FROM stigg.USAGE_EVENTS WHERE ID = '{EVENT}'") == [
        (1,)
    ]

    # Step 2: transfers 4-6, and a later file: EVENT's new version lacks its customer (rejected),
    # an event with no ID, and an event of an environment not seen before.
    _copy_transfers(source, export, dts[3:])
    _write_events(export, "2026-03-01", "20260301020000", [
        _event(EVENT, "2026-03-01T02:00:00Z", CUSTOMER_ID=None),
        _event(None, "2026-03-01T02:00:00Z"),
        _event("e-new-env", "2026-03-01T02:00:00Z", ENVIRONMENT_ID=NEW_ENVIRONMENT),
    ])  # fmt: skip
    step = run_cli(["run"], pipeline_env)
    assert step.returncode == 0, step.stdout[-3000:]
    incremental = table_checksums(warehouse)
    assert query(warehouse, f"SELECT count(*) FROM stigg.USAGE_EVENTS WHERE ID = '{EVENT}'") == [
        (0,)
    ]
    assert query(
        warehouse, f"SELECT rejection_reason FROM rejects.usage_events WHERE ID = '{EVENT}'"
    ) == [("NULL in mandatory column CUSTOMER_ID",)]
    assert query(warehouse, 'SELECT ID FROM stigg."USAGE_EVENTS_ENV_ADDED_LATER"') == [
        ("e-new-env",)
    ]
    assert incremental == _from_scratch(export, tmp_path, pipeline_env, "full_2")

    # Step 3: EVENT is fixed by a later version; it is back, and no longer rejected.
    _write_events(export, "2026-03-02", "20260302020000", [
        _event(EVENT, "2026-03-02T02:00:00Z", EVENT_NAME="fixed"),
    ])  # fmt: skip
    step = run_cli(["run"], pipeline_env)
    assert step.returncode == 0, step.stdout[-3000:]
    # ... and dbt built it incrementally: the compiled SQL read only the unprocessed loads.
    compiled = _compiled_code(pipeline_env, step.stdout, "model.stigg_warehouse.USAGE_EVENTS")
    assert "dbt_processed_loads" in compiled and "touched_versions" in compiled
    assert query(warehouse, f"SELECT EVENT_NAME FROM stigg.USAGE_EVENTS WHERE ID = '{EVENT}'") == [
        ("fixed",)
    ]
    assert query(warehouse, f"SELECT count(*) FROM rejects.usage_events WHERE ID = '{EVENT}'") == [
        (0,)
    ]
    incremental = table_checksums(warehouse)
    assert incremental == _from_scratch(export, tmp_path, pipeline_env, "full_3")
