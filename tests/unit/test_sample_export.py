"""The committed sample export is reproducible and exercises what real exports do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.runtime import landing
from orchestration.runtime.engines.duckdb import files as engine
from orchestration.runtime.sources.export import ExportSource
from orchestration.spec.tables import TABLES
from orchestration.synthetic.sample_export import (
    ADDED_LATER_COLUMN,
    ExportConfig,
    generate_export,
)
from tests.support.paths import SAMPLE_EXPORT


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_regenerating_the_sample_gives_identical_files(tmp_path):
    generate_export(tmp_path / "again", ExportConfig())  # the defaults made seeds/sample_export
    committed, regenerated = _tree(SAMPLE_EXPORT), _tree(tmp_path / "again")
    assert sorted(regenerated) == sorted(committed)
    different = [name for name in committed if committed[name] != regenerated[name]]
    assert different == []


def test_a_different_seed_gives_a_different_export(tmp_path):
    generate_export(tmp_path / "a", ExportConfig(customers=20, seed=1, transfers=3))
    generate_export(tmp_path / "b", ExportConfig(customers=20, seed=2, transfers=3))
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")


@pytest.fixture(scope="module")
def landed_sample(tmp_path_factory):
    source = ExportSource(str(SAMPLE_EXPORT))
    files, skipped = source.scan()
    assert skipped == []
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    con = engine.connect(path)
    raw = engine.DuckDBRaw(con)
    raw.ensure_schema([t.model for t in TABLES])
    for t in TABLES:
        model_files = [f for f in files if f.model == t.model]
        result = landing.land_model(raw, t.model, model_files, "test", open_file=source.open)
        assert result.failed == []
    yield con, files
    con.close()


def test_sample_layout_matches_the_format_doc(landed_sample):
    _, files = landed_sample
    pattern = re.compile(r"^[a-z_0-9-]+/dt=\d{4}-\d{2}-\d{2}/.+_\d{14}\.(parquet|csv|ndjson\.gz)$")
    assert all(pattern.match(f.path) for f in files)
    assert {f.model for f in files} == {t.model for t in TABLES}
    assert len({f.transfer_at for f in files}) >= 3
    assert {f.format for f in files} == {"parquet", "csv", "json"}
    assert any(f.path.endswith(".ndjson.gz") for f in files)


def test_sample_has_usage_events_of_several_environments_in_both_folder_forms(landed_sample):
    con, files = landed_sample
    folders = {f.folder for f in files if f.model == "usage_events"}
    assert "usage_events" in folders
    assert any(folder.startswith("usage_events_") for folder in folders)
    environments = con.execute(
        "SELECT count(DISTINCT environment_id) FROM raw.customers"
    ).fetchone()[0]
    assert environments >= 2


def test_sample_covers_every_documented_enum_value(landed_sample):
    con, _ = landed_sample
    for table in TABLES:
        for column in table.columns:
            if not column.enum:
                continue
            seen = {
                row[0]
                for row in con.execute(
                    f'SELECT DISTINCT "{column.name.lower()}" FROM raw."{table.model}"'
                ).fetchall()
            }
            missing = set(column.enum) - seen
            assert not missing, f"{table.name}.{column.name} never takes {sorted(missing)}"


def test_sample_has_updates_repeats_archived_customers_and_versions(landed_sample):
    con, _ = landed_sample
    updated, repeated = con.execute(
        """
        SELECT count(*) FILTER (WHERE versions > 1), count(*) FILTER (WHERE rows > versions)
        FROM (
            SELECT id, count(*) AS rows, count(DISTINCT (name, updated_at, deleted_at)) AS versions
            FROM raw.customers GROUP BY id
        )
        """
    ).fetchone()
    assert updated > 0 and repeated > 0
    assert (
        con.execute("SELECT count(*) FROM raw.customers WHERE deleted_at IS NOT NULL").fetchone()[0]
        > 0
    )
    versioned = con.execute(
        "SELECT count(*) FROM (SELECT plan_id FROM raw.plans GROUP BY ALL HAVING count(DISTINCT id) > 1)"
    ).fetchone()[0]
    assert versioned > 0
    assert con.execute("SELECT count(*) FROM raw.entitlements").fetchone()[0] > 0


def test_sample_has_a_column_added_in_a_later_transfer(landed_sample):
    con, _ = landed_sample
    first_transfer, with_column = con.execute(
        f"""
        SELECT min(_stigg_transfer_at), min(_stigg_transfer_at) FILTER (WHERE {ADDED_LATER_COLUMN.lower()} IS NOT NULL)
        FROM raw.customers
        """
    ).fetchone()
    assert with_column > first_transfer
