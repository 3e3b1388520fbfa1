"""What an incremental run checks: the rows its build took in, and that is enough to catch each
kind of breakage in them. A warehouse is built in two runs (the second incremental); copies of it
are broken in the rows of the second run's loads, and the tests, scoped as a pipeline run scopes
them (var stigg_check_scope = new_rows), must fail on each. A break in an older row is not in
that scope: a full refresh (or dbt alone, which checks every row) finds it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.synthetic.scale_export import Preset, generate_scale_export
from tests.support.runs import run_cli, run_dbt
from tests.support.warehouse import query

pytestmark = [pytest.mark.slow, pytest.mark.ci]

NEW_ROWS = {"stigg_check_scope": "new_rows"}
LAST_BUILD = """
    SELECT ID FROM staging.stg_stigg__usage_events WHERE _stigg_load_id IN (
        SELECT load_id FROM meta.dbt_processed_loads WHERE consumer = 'stigg.USAGE_EVENTS'
        AND recorded_at = (SELECT max(recorded_at) FROM meta.dbt_processed_loads
                           WHERE consumer = 'stigg.USAGE_EVENTS'))
"""


@pytest.fixture(scope="module")
def incremental_warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("checks")
    source, export = root / "generated", root / "export"
    generate_scale_export(
        source, Preset(customers=60, usage_events=3_000, transfers=4), progress=False
    )
    dts = sorted({p.name for p in source.glob("*/dt=*")})
    env = {"PATH": __import__("os").environ["PATH"], "HOME": str(root),
           "STIGG_EXPORT_URI": str(export), "DAGSTER_HOME": str(root / "home"),
           "STIGG_WAREHOUSE_PATH": str(root / "wh" / "stigg_warehouse.duckdb")}  # fmt: skip
    for step in (dts[:-1], dts[-1:]):
        for folder in source.glob("*/dt=*"):
            if folder.name in step:
                shutil.copytree(folder, export / folder.relative_to(source), dirs_exist_ok=True)
        result = run_cli(["run"], env)
        assert result.returncode == 0, result.stdout[-3000:]
    return Path(env["STIGG_WAREHOUSE_PATH"])


def _event(con: duckdb.DuckDBPyConnection, *, new: bool) -> tuple[str, str]:
    """An event of the last build (new) or of the one before, and its environment's table."""
    condition = "IN" if new else "NOT IN"
    [(event_id,)] = con.execute(
        f"SELECT ID FROM stigg.USAGE_EVENTS WHERE ID {condition} ({LAST_BUILD}) ORDER BY ID LIMIT 1"
    ).fetchall()
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'stigg' AND table_type = 'BASE TABLE' AND table_name LIKE 'USAGE_EVENTS_%'"
    ).fetchall()
    [table] = [
        f'stigg."{name}"'
        for (name,) in tables
        if con.execute(f'SELECT count(*) FROM stigg."{name}" WHERE ID = ?', [event_id]).fetchone()[
            0
        ]
    ]
    return event_id, table


BREAKS = {
    # one key twice
    "duplicate key": (
        "INSERT INTO {table} SELECT * FROM {table} WHERE ID = '{id}'",
        ["unique_USAGE_EVENTS_ID"],
    ),
    # a mandatory column empty (DuckDB's constraint lifted first, as a bad writer would)
    "null": (
        "ALTER TABLE {table} ALTER COLUMN CUSTOMER_ID DROP NOT NULL; "
        "UPDATE {table} SET CUSTOMER_ID = NULL WHERE ID = '{id}'",
        ["not_null_USAGE_EVENTS", "USAGE_EVENTS_ENV_not_null"],
    ),
    # a row gone: the raw rows no longer balance
    "unbalanced reconciliation": (
        "DELETE FROM {table} WHERE ID = '{id}'",
        ["stigg_reconciles_with_raw_USAGE_EVENTS"],
    ),
}


def _failures(database: Path, tmp_path: Path, selector: str, **variables) -> dict[str, str]:
    run_dbt(["test", "--select", selector], database, tmp_path, **variables)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_the_checks_of_an_incremental_run_catch_a_break_in_its_new_rows(
    incremental_warehouse, tmp_path, kind
):
    statement, failing = BREAKS[kind]
    for new in (True, False):
        broken = tmp_path / f"broken_{new}.duckdb"
        shutil.copyfile(incremental_warehouse, broken)
        with duckdb.connect(str(broken)) as con:
            event_id, table = _event(con, new=new)
            con.execute(statement.format(table=table, id=event_id))
        scoped = _failures(broken, tmp_path / f"scoped_{new}", "USAGE_EVENTS", **NEW_ROWS)
        full = _failures(broken, tmp_path / f"full_{new}", "USAGE_EVENTS")
        for check in failing:
            assert full[check] == "fail", (kind, check, full)
            # The rows of the last build: caught by the run's own scoped checks.
            assert scoped[check] == ("fail" if new else "pass"), (kind, new, check, scoped)


def test_an_unknown_enum_value_is_caught_in_new_rows_too(incremental_warehouse, tmp_path):
    """accepted_values checks every row on every run (an enum's test is one column's scan)."""
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(incremental_warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        [(measurement,)] = con.execute(
            "SELECT ID FROM stigg.USAGE_MEASUREMENTS WHERE ID IN ("
            "SELECT ID FROM staging.stg_stigg__usage_measurements WHERE _stigg_load_id IN ("
            "SELECT load_id FROM meta.dbt_processed_loads WHERE consumer = 'stigg.USAGE_MEASUREMENTS' "
            "AND recorded_at = (SELECT max(recorded_at) FROM meta.dbt_processed_loads "
            "WHERE consumer = 'stigg.USAGE_MEASUREMENTS'))) ORDER BY ID LIMIT 1"
        ).fetchall()
        con.execute(
            "UPDATE stigg.USAGE_MEASUREMENTS SET RESET_PERIOD = 'FORTNIGHT' WHERE ID = ?",
            [measurement],
        )
    scoped = _failures(broken, tmp_path / "scoped", "USAGE_MEASUREMENTS", **NEW_ROWS)
    assert scoped["accepted_values_USAGE_MEASUREMENTS"] == "warn"
    # One test for the table's enums; its failing row names the column and the value.
    [compiled] = [
        r["compiled_code"]
        for r in json.loads((tmp_path / "scoped" / "target" / "run_results.json").read_text())[
            "results"
        ]
        if r["unique_id"].split(".")[2] == "accepted_values_USAGE_MEASUREMENTS"
    ]
    shown = run_dbt(["show", "--inline", compiled, "--output", "json"], broken, tmp_path / "show")
    assert json.loads(shown.event_data("ShowNode")[0]["preview"]) == [
        {"column_name": "RESET_PERIOD", "unexpected_value": "FORTNIGHT", "unexpected_rows": 1}
    ]


def test_an_incremental_run_checks_only_the_keys_of_its_loads(incremental_warehouse):
    """The scope is real: the last build's keys are a small part of the table."""
    [(new, total)] = query(
        incremental_warehouse,
        f"SELECT (SELECT count(*) FROM stigg.USAGE_EVENTS WHERE ID IN ({LAST_BUILD})), "
        "(SELECT count(*) FROM stigg.USAGE_EVENTS)",
    )
    assert 0 < new < total / 2
