"""The scale generator: the real layout, every documented column, valid references, and the
insert-only behaviour of a real export (updates in later transfers, repeats at the edge)."""

from __future__ import annotations

import io
import re

import duckdb
import pytest

from orchestration.spec.tables import TABLES, TABLES_BY_NAME, reference_target
from orchestration.synthetic.scale_export import PRESETS, Preset, ProgressBar, generate_scale_export

PRESET = Preset(customers=80, usage_events=4_000, transfers=5)
FILE_NAME = re.compile(r"^[a-z_]+/dt=\d{4}-\d{2}-\d{2}/\d{4}_\d{14}\.parquet$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale") / "export"
    summary = generate_scale_export(out, PRESET, progress=False)
    con = duckdb.connect()
    for table in TABLES:
        pattern = str(out / table.model / "*" / "*.parquet").replace("'", "''")
        con.execute(
            f"CREATE VIEW {table.model} AS "
            f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = false)"
        )
    return out, summary, con


def test_presets_are_the_documented_sizes():
    assert (PRESETS["S"].customers, PRESETS["S"].usage_events) == (1_000, 100_000)
    assert (PRESETS["M"].customers, PRESETS["M"].usage_events) == (100_000, 10_000_000)
    assert (PRESETS["L"].customers, PRESETS["L"].usage_events) == (1_000_000, 100_000_000)
    assert {p.transfers for p in PRESETS.values()} == {30}


def test_files_follow_the_export_layout_with_every_documented_column(generated):
    out, summary, con = generated
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert len(files) == summary.files
    assert all(FILE_NAME.match(f) for f in files), [f for f in files if not FILE_NAME.match(f)][:3]
    assert {f.split("/")[0] for f in files} == {t.model for t in TABLES}
    for table in TABLES:
        columns = [r[0] for r in con.execute(f"DESCRIBE {table.model}").fetchall()]
        assert columns == list(table.column_names), table.name
        for column in table.columns:
            if column.mandatory:
                nulls = con.execute(
                    f"SELECT count(*) FROM {table.model} WHERE {column.name} IS NULL"
                ).fetchone()
                assert nulls == (0,), f"{table.name}.{column.name}"
            if column.enum:
                values = {
                    r[0]
                    for r in con.execute(
                        f"SELECT DISTINCT {column.name} FROM {table.model} WHERE {column.name} IS NOT NULL"
                    ).fetchall()
                }
                assert values <= set(column.enum), f"{table.name}.{column.name}: {values}"


def test_sizes_updates_and_edge_repeats_behave_like_a_real_export(generated):
    _, summary, con = generated
    events, distinct_events = con.execute(
        "SELECT count(*), count(DISTINCT ID) FROM usage_events"
    ).fetchone()
    assert distinct_events == PRESET.usage_events
    assert events > distinct_events  # a few events are written again by the next transfer
    customers, distinct_customers, versions = con.execute(
        "SELECT count(*), count(DISTINCT ID), count(DISTINCT (ID, UPDATED_AT)) FROM customers"
    ).fetchone()
    assert distinct_customers == PRESET.customers
    assert versions > distinct_customers  # records updated in later transfers
    assert customers >= versions  # (identical repeats at the edge are rare: 1 row in 500)
    # Insert-only: an event's repeats are identical rows.
    assert con.execute(
        "SELECT count(*) FROM (SELECT ID FROM usage_events GROUP BY ID HAVING count(DISTINCT usage_events) > 1)"
    ).fetchone() == (0,)
    assert summary.rows == sum(
        con.execute(f"SELECT count(*) FROM {t.model}").fetchone()[0] for t in TABLES
    )


def test_every_reference_points_at_an_existing_parent(generated):
    _, _, con = generated
    for table in TABLES:
        for column in table.references:
            parent, parent_column = reference_target(table, column)
            missing = con.execute(
                f"SELECT count(*) FROM {table.model} WHERE {column} IS NOT NULL AND {column} NOT IN "
                f"(SELECT {parent_column} FROM {parent.model})"
            ).fetchone()
            assert missing == (0,), f"{table.name}.{column} -> {parent.name}.{parent_column}"
    assert TABLES_BY_NAME["SUBSCRIPTIONS"].references["CUSTOMER_ID"] == "CUSTOMERS"


def test_the_same_seed_writes_the_same_rows(tmp_path):
    small = Preset(customers=20, usage_events=300, transfers=3)
    first = generate_scale_export(tmp_path / "a", small, seed=3, progress=False)
    second = generate_scale_export(tmp_path / "b", small, seed=3, progress=False)
    other = generate_scale_export(tmp_path / "c", small, seed=4, progress=False)
    digest = "SELECT md5(string_agg(md5(CAST(t AS VARCHAR)), '' ORDER BY md5(CAST(t AS VARCHAR)))) FROM read_parquet(?, hive_partitioning = false) AS t"
    con = duckdb.connect()
    events = [str(tmp_path / d / "usage_events" / "*" / "*.parquet") for d in "abc"]
    a, b, c = (con.execute(digest, [p]).fetchone()[0] for p in events)
    assert (first.rows, a) == (second.rows, b)
    assert a != c and other.rows > 0


def test_the_progress_bar_reports_rows_and_in_a_log_prints_a_line_per_tenth():
    stream = io.StringIO()
    bar = ProgressBar(1_000, stream=stream)
    for done in range(0, 1_001, 50):
        bar.update(done, "transfer 1/30 usage_events")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # 0%, 10%, ..., 100%
    assert lines[-1].startswith("[" + "#" * 30 + "] 100.0% 1,000 rows")
