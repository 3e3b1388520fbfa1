"""Landing: formats, lineage, case-insensitive columns, drift, the manifest, bad and changed files."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import duckdb
import pytest

from orchestration.runtime import landing as file_landing
from orchestration.runtime.engines.duckdb import files as engine
from orchestration.runtime.sources.export import ExportSource
from orchestration.spec.tables import TABLES


def _parquet(path: Path, select_sql: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT parquet)")


def _file(root: Path, model: str, dt: str, name: str) -> Path:
    path = root / model / f"dt={dt}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class Landing:
    """A warehouse and an export folder, landed model by model as the raw asset does."""

    def __init__(self, tmp_path: Path):
        self.export = tmp_path / "export"
        self.export.mkdir()
        self.con = engine.connect(tmp_path / "w.duckdb")
        self.raw = engine.DuckDBRaw(self.con)
        self.raw.ensure_schema([t.model for t in TABLES])
        self.loads = 0

    def land(self, model: str = "customers") -> file_landing.ModelLanding:
        self.loads += 1
        source = ExportSource(str(self.export))
        files, _ = source.scan()
        return file_landing.land_model(
            self.raw,
            model,
            [f for f in files if f.model == model],
            f"load-{self.loads}",
            open_file=source.open,
        )

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()


@pytest.fixture
def landing(tmp_path):
    landing = Landing(tmp_path)
    yield landing
    landing.con.close()


def test_each_format_lands_with_lineage(landing):
    _parquet(
        _file(landing.export, "customers", "2025-01-01", "0000_20250101020000.parquet"),
        "SELECT 'c1' AS ID, TIMESTAMPTZ '2025-01-01 01:00:00+00' AS UPDATED_AT",
    )
    _file(landing.export, "customers", "2025-01-02", "0000_20250102020000.csv").write_text(
        "ID,UPDATED_AT,HAS_ACTIVE_SUBSCRIPTION\nc2,2025-01-02T01:00:00Z,true\n"
    )
    with gzip.open(
        _file(landing.export, "customers", "2025-01-03", "7_20250103020000.ndjson.gz"), "wt"
    ) as f:
        f.write(json.dumps({"ID": "c3", "UPDATED_AT": "2025-01-03T01:00:00+02:00"}) + "\n")

    result = landing.land()
    assert result.failed == [] and len(result.files_landed) == 3 and result.rows_landed == 3
    rows = landing.rows(
        """SELECT id, _stigg_source_file, _stigg_dt, _stigg_transfer_at, _stigg_load_id,
                  _stigg_loaded_at IS NOT NULL
           FROM raw.customers ORDER BY id"""
    )
    assert [r[0] for r in rows] == ["c1", "c2", "c3"]
    assert rows[1][1] == "customers/dt=2025-01-02/0000_20250102020000.csv"
    assert str(rows[2][2]) == "2025-01-03"
    assert rows[2][3].isoformat() == "2025-01-03T02:00:00+00:00"
    assert {r[4] for r in rows} == {"load-1"} and all(r[5] for r in rows)


def test_csv_keeps_leading_zeros_and_text(landing):
    _file(landing.export, "customers", "2025-01-01", "0_20250101020000.csv").write_text(
        "ID,DEFAULT_PAYMENT_METHOD_LAST4_DIGITS\nc1,0042\n"
    )
    landing.land()
    assert landing.rows("SELECT default_payment_method_last4_digits FROM raw.customers") == [
        ("0042",)
    ]


def test_column_names_match_case_insensitively_and_a_later_column_is_added(landing):
    _parquet(
        _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet"),
        "SELECT 'c1' AS ID, 'Acme' AS NAME",
    )
    _parquet(
        _file(landing.export, "customers", "2025-01-02", "0_20250102020000.parquet"),
        "SELECT 'c2' AS id, 'Globex' AS name, 'x-1' AS Crm_Account_Id",
    )
    landing.land()
    assert landing.rows("SELECT id, name, crm_account_id FROM raw.customers ORDER BY id") == [
        ("c1", "Acme", None),
        ("c2", "Globex", "x-1"),
    ]
    _parquet(
        _file(landing.export, "customers", "2025-01-03", "0_20250103020000.parquet"),
        "SELECT 'c3' AS ID, 'Initech' AS Name, 'x-3' AS CRM_ACCOUNT_ID, 5 AS LATER",
    )
    landing.land()
    assert landing.rows(
        "SELECT name, crm_account_id, later FROM raw.customers WHERE id = 'c3'"
    ) == [("Initech", "x-3", 5)]


def test_a_column_whose_type_changes_is_widened_to_text_without_losing_values(landing):
    _parquet(
        _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet"),
        "SELECT 'c1' AS ID, TIMESTAMPTZ '2025-01-01 01:00:00+00' AS UPDATED_AT",
    )
    landing.land()
    _parquet(
        _file(landing.export, "customers", "2025-01-02", "0_20250102020000.parquet"),
        "SELECT 'c2' AS ID, '2025-01-02T01:00:00Z' AS UPDATED_AT",
    )
    landing.land()
    values = landing.rows("SELECT id, updated_at::TIMESTAMPTZ FROM raw.customers ORDER BY id")
    assert [v[1].isoformat() for v in values] == [
        "2025-01-01T01:00:00+00:00",
        "2025-01-02T01:00:00+00:00",
    ]


def test_the_manifest_records_files_and_a_rerun_lands_nothing(landing):
    path = _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet")
    _parquet(path, "SELECT 'c' || range AS ID FROM range(5)")
    first = landing.land()
    assert first.rows_landed == 5
    second = landing.land()
    assert second.files_landed == [] and second.already_landed == 1
    assert landing.rows("SELECT count(*) FROM raw.customers") == [(5,)]
    manifest = landing.rows(
        "SELECT path, model, status, rows, size_bytes, fingerprint IS NOT NULL, load_id FROM meta.landed_files"
    )
    assert manifest == [
        ("customers/dt=2025-01-01/0_20250101020000.parquet", "customers", "landed", 5,
         path.stat().st_size, True, "load-1"),
    ]  # fmt: skip


def test_a_new_transfer_lands_only_its_files(landing):
    _parquet(
        _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet"),
        "SELECT 'a' AS ID",
    )
    landing.land()
    _parquet(
        _file(landing.export, "customers", "2025-01-02", "0_20250102020000.parquet"),
        "SELECT 'b' AS ID",
    )
    _parquet(
        _file(landing.export, "customers", "2025-01-02", "1_20250102020000.parquet"),
        "SELECT 'c' AS ID",
    )
    result = landing.land()
    assert sorted(result.files_landed) == [
        "customers/dt=2025-01-02/0_20250102020000.parquet",
        "customers/dt=2025-01-02/1_20250102020000.parquet",
    ]
    assert landing.rows("SELECT id, _stigg_load_id FROM raw.customers ORDER BY id") == [
        ("a", "load-1"), ("b", "load-2"), ("c", "load-2"),
    ]  # fmt: skip


def test_a_corrupt_file_is_named_lands_nothing_and_is_retried(landing):
    good = _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet")
    _parquet(good, "SELECT 'good' AS ID")
    bad = _file(landing.export, "customers", "2025-01-01", "1_20250101020000.parquet")
    _parquet(bad, "SELECT 'bad-' || range AS ID FROM range(100)")
    content = bad.read_bytes()
    bad.write_bytes(content[: len(content) // 2])  # truncated

    result = landing.land()
    assert result.files_landed == ["customers/dt=2025-01-01/0_20250101020000.parquet"]
    assert [f.path for f in result.failed] == ["customers/dt=2025-01-01/1_20250101020000.parquet"]
    assert result.failed[0].reason
    assert landing.rows("SELECT id FROM raw.customers") == [("good",)]
    assert landing.rows(
        "SELECT status, error IS NOT NULL FROM meta.landed_files WHERE path LIKE '%/1_%'"
    ) == [("failed", True)]

    bad.write_bytes(content)  # the export re-sends it intact
    retry = landing.land()
    assert retry.files_landed == ["customers/dt=2025-01-01/1_20250101020000.parquet"]
    assert landing.rows("SELECT count(*) FROM raw.customers") == [(101,)]


def test_a_file_changed_after_landing_is_reported_not_loaded_again(landing):
    path = _file(landing.export, "customers", "2025-01-01", "0_20250101020000.parquet")
    _parquet(path, "SELECT 'v1' AS ID")
    landing.land()
    _parquet(path, "SELECT 'v2' AS ID UNION ALL SELECT 'v3'")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    result = landing.land()
    assert result.changed == ["customers/dt=2025-01-01/0_20250101020000.parquet"]
    assert result.files_landed == []
    assert landing.rows("SELECT id FROM raw.customers") == [("v1",)]
    landing.land()  # reported again, recorded once
    assert landing.rows("SELECT count(*) FROM meta.landed_files WHERE status = 'changed'") == [(1,)]


def test_per_environment_usage_event_folders_land_into_one_raw_table(landing):
    _parquet(
        _file(landing.export, "usage_events", "2025-01-01", "0_20250101020000.parquet"),
        "SELECT 'e1' AS ID, 'env-a' AS ENVIRONMENT_ID",
    )
    _parquet(
        _file(landing.export, "usage_events_env-b", "2025-01-01", "0_20250101020000.parquet"),
        "SELECT 'e2' AS ID",
    )
    result = landing.land("usage_events")
    assert result.rows_landed == 2
    assert landing.rows("SELECT id, _stigg_source_file FROM raw.usage_events ORDER BY id") == [
        ("e1", "usage_events/dt=2025-01-01/0_20250101020000.parquet"),
        ("e2", "usage_events_env-b/dt=2025-01-01/0_20250101020000.parquet"),
    ]


def test_every_known_model_has_a_raw_table_before_any_file_lands(landing):
    tables = {
        r[0]
        for r in landing.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        )
    }
    assert tables == {t.model for t in TABLES}


def test_a_per_environment_folder_lands_its_environment_in_a_lineage_column(landing):
    for folder, event in (("Usage_Events_env-A", "e1"), ("usage_events", "e2")):
        _parquet(
            _file(landing.export, folder, "2025-01-01", "0000_20250101020000.parquet"),
            f"SELECT '{event}' AS ID",
        )
    assert landing.land("usage_events").failed == []
    assert landing.rows("SELECT id, _stigg_environment_id FROM raw.usage_events ORDER BY id") == [
        ("e1", "env-A"),
        ("e2", None),
    ]


def test_a_raw_table_from_before_the_environment_column_gets_it_filled(tmp_path):
    """A warehouse built before landing recorded a file's environment: its raw table gains the
    column, filled from the files its rows came from, in one transaction."""
    con = engine.connect(tmp_path / "w.duckdb")
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.usage_events AS SELECT * FROM (VALUES "
        "('usage_events_ENV1/dt=2025-01-01/0_20250101000000.parquet', 'e1'), "
        "('usage_events/dt=2025-01-01/0_20250101000000.parquet', 'e2')) "
        "AS t(_stigg_source_file, id)"
    )
    engine.DuckDBRaw(con).ensure_schema(["usage_events"])
    assert con.execute(
        "SELECT id, _stigg_environment_id FROM raw.usage_events ORDER BY id"
    ).fetchall() == [("e1", "ENV1"), ("e2", None)]
    columns = {name for name, *_ in con.execute("DESCRIBE raw.usage_events").fetchall()}
    assert {"_stigg_dt", "_stigg_load_id", "_stigg_environment_id"} <= columns
    con.close()
