"""Whole runs of `stigg-warehouse run`, each in a fresh process, as a user or scheduler runs it."""

from __future__ import annotations

import pytest

from orchestration.spec.tables import TABLES
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.builds import copy_folder, warehouse_env
from tests.support.paths import SAMPLE_EXPORT
from tests.support.runs import run_cli
from tests.support.s3 import S3_CREDENTIALS, upload_to_s3
from tests.support.warehouse import query

pytestmark = pytest.mark.slow


def test_the_sample_export_builds_the_warehouse(sample_build, tmp_path):
    """The session's build of the bundled sample (`stigg-warehouse run`, as the README's first
    command runs it): what it printed, and what it published."""
    output, warehouse = sample_build.output, sample_build.warehouse
    assert "Landed 72 new files, 11,134 rows in total" in output
    assert "raw/customers" in output and "stigg/CUSTOMERS" in output  # progress
    assert " 0 failed, 0 warned" in output  # every dbt test passes on the sample

    raw_tables = {
        r[0]
        for r in query(
            warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        )
    }
    assert raw_tables == {t.model for t in TABLES}
    files, rows = query(
        warehouse, "SELECT count(*), sum(rows) FROM meta.landed_files WHERE status = 'landed'"
    )[0]
    assert files == sum(1 for p in SAMPLE_EXPORT.rglob("*") if p.is_file())
    assert rows == sum(
        query(warehouse, f'SELECT count(*) FROM raw."{t.model}"')[0][0] for t in TABLES
    )

    # stigg.CUSTOMERS: the documented columns, in order, and the latest row per ID.
    columns = query(
        warehouse,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'stigg' AND table_name = 'CUSTOMERS' ORDER BY ordinal_position",
    )
    customers = next(t for t in TABLES if t.name == "CUSTOMERS")
    assert [c[0] for c in columns] == list(customers.column_names)
    assert [c[2] == "NO" for c in columns] == [c.mandatory for c in customers.columns]
    expected = query(
        warehouse,
        """
        SELECT id, name, deleted_at::TIMESTAMPTZ FROM raw.customers
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at::TIMESTAMPTZ DESC,
                                   _stigg_transfer_at DESC, _stigg_source_file DESC) = 1
        ORDER BY id
        """,
    )
    actual = query(warehouse, 'SELECT ID, NAME, DELETED_AT FROM stigg."CUSTOMERS" ORDER BY ID')
    assert actual == expected
    assert len(actual) == query(warehouse, "SELECT count(DISTINCT id) FROM raw.customers")[0][0]

    # A second run, on a copy: nothing new lands.
    copy = copy_folder(warehouse.parent, tmp_path / "wh")
    again_env = warehouse_env(tmp_path)
    again = run_cli(["run"], again_env)
    assert again.returncode == 0, again.stdout[-3000:]
    copied = copy / warehouse.name
    assert query(copied, "SELECT count(DISTINCT load_id) FROM meta.landed_files") == [(1,)]
    assert query(copied, "SELECT count(*) FROM raw.customers") == query(
        copied, "SELECT sum(rows) FROM meta.landed_files WHERE model = 'customers'"
    )


@pytest.mark.ci
def test_a_corrupt_file_fails_the_run_loudly_but_the_rest_is_published_and_it_is_retried(
    tmp_path, pipeline_env
):
    export = tmp_path / "export"
    generate_export(export, ExportConfig(customers=30, seed=3, transfers=3))
    victim = sorted((export / "subscriptions").rglob("*.parquet"))[-1]
    intact = victim.read_bytes()
    victim.write_bytes(intact[:200])
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    relative = victim.relative_to(export).as_posix()

    result = run_cli(["run"], pipeline_env)
    assert result.returncode == 1
    assert f"FAILED FILE {relative}" in result.stdout
    assert query(
        warehouse, "SELECT count(*) FROM raw.subscriptions WHERE _stigg_source_file = ?", [relative]
    ) == [(0,)]
    assert query(warehouse, "SELECT count(*) > 0 FROM raw.subscriptions") == [(True,)]
    assert query(warehouse, 'SELECT count(*) > 0 FROM stigg."CUSTOMERS"') == [(True,)]
    assert query(warehouse, "SELECT status FROM meta.landed_files WHERE path = ?", [relative]) == [
        ("failed",)
    ]

    victim.write_bytes(intact)
    retry = run_cli(["run"], pipeline_env)
    assert retry.returncode == 0, retry.stdout[-3000:]
    assert query(
        warehouse,
        "SELECT count(*) > 0 FROM raw.subscriptions WHERE _stigg_source_file = ?",
        [relative],
    ) == [(True,)]


@pytest.mark.ci
def test_s3_export_lands_exactly_what_the_folder_lands(tmp_path, pipeline_env, s3_server):
    export = tmp_path / "export"
    generate_export(export, ExportConfig(customers=25, seed=9, transfers=3))
    credentials = dict(S3_CREDENTIALS, AWS_ENDPOINT_URL=s3_server)
    upload_to_s3(s3_server, "stigg-exports", "acme/prod", export)

    folder_env = dict(
        pipeline_env,
        STIGG_EXPORT_URI=str(export),
        STIGG_WAREHOUSE_PATH=str(tmp_path / "folder.duckdb"),
    )
    s3_env = dict(pipeline_env, **credentials, STIGG_EXPORT_URI="s3://stigg-exports/acme/prod",
                  STIGG_WAREHOUSE_PATH=str(tmp_path / "s3.duckdb"))  # fmt: skip
    assert run_cli(["run"], folder_env).returncode == 0
    from_s3 = run_cli(["run"], s3_env)
    assert from_s3.returncode == 0, from_s3.stdout[-3000:] + from_s3.stderr[-3000:]

    def content(path):
        return {
            t.model: query(
                path,
                f'SELECT * EXCLUDE (_stigg_load_id, _stigg_loaded_at) FROM raw."{t.model}" ORDER BY ALL',
            )
            for t in TABLES
        }

    assert content(s3_env["STIGG_WAREHOUSE_PATH"]) == content(folder_env["STIGG_WAREHOUSE_PATH"])
    assert query(
        s3_env["STIGG_WAREHOUSE_PATH"],
        "SELECT count(*) FROM meta.landed_files WHERE status = 'landed'",
    ) == [(sum(1 for p in export.rglob("*") if p.is_file()),)]
