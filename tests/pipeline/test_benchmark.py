"""The benchmark's baseline does the pipeline's work: on a clean export, its hand-written SQL
builds the 17 documented tables with exactly the rows the pipeline publishes."""

from __future__ import annotations

import duckdb
import pytest

from benchmarks import baseline, cli, report
from benchmarks.exports import parquet_files
from benchmarks.figures import Figures
from orchestration.spec.tables import TABLES
from orchestration.synthetic.scale_export import Preset, generate_scale_export
from tests.support.runs import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.ci]


def _digests(path, schema: str) -> dict[str, tuple[int, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return {
            t.name: con.execute(
                f"SELECT count(*), md5(string_agg(md5(CAST(t AS VARCHAR)), '' ORDER BY md5(CAST(t AS VARCHAR)))) FROM {schema}\"{t.name}\" AS t"
            ).fetchone()
            for t in TABLES
        }


def test_the_plain_sql_baseline_builds_the_same_tables_as_the_pipeline(tmp_path, pipeline_env):
    export = tmp_path / "export"
    generate_scale_export(
        export, Preset(customers=50, usage_events=2_000, transfers=4), progress=False
    )
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    result = run_cli(["run"], pipeline_env)
    assert result.returncode == 0, result.stdout[-3000:]

    files = parquet_files(export)
    assert files == {
        t.model: sorted(str(p) for p in export.glob(f"{t.model}/dt=*/*.parquet")) for t in TABLES
    }
    plain = tmp_path / "plain.duckdb"
    assert baseline.plain_sql_build(files, plain) > 0
    pipeline = _digests(pipeline_env["STIGG_WAREHOUSE_PATH"], "stigg.")
    assert all(rows > 0 for rows, _ in pipeline.values())
    assert _digests(plain, "") == pipeline

    read_seconds, rows = baseline.duckdb_bulk_read(files, tmp_path / "read.duckdb")
    assert rows == sum(
        duckdb.sql(f"SELECT count(*) FROM read_parquet({fs!r})").fetchone()[0]
        for fs in files.values()
        if fs
    )
    assert read_seconds > 0


def test_the_table_marks_each_target_met_or_not():
    figures = Figures(
        preset="M", shape="default", raw_rows=10, export_mb=1, landing_rows_per_s=9,
        duckdb_read_rows_per_s=10, landing_ratio=0.9, full_seconds=3, baseline_seconds=1,
        full_ratio=3.0, peak_memory_gib=1, incremental_seconds=1, incremental_ratio=0.33,
        noop_seconds=0.2, warehouse_mb=2,
    )  # fmt: skip
    table = report.render([figures], sample_seconds=12.0)
    assert "landing vs DuckDB read | 0.90 met" in table
    assert "full run vs plain SQL  | 3.00 NOT met" in table
    assert "no-op run (s)          | 0.20 met" in table
    assert "sample export run, end to end: 12.0s NOT met" in table
    assert cli.parse(["m:versions", "sample"]).runs == ["M:versions", "sample"]
