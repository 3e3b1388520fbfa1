"""The project's rules that live in dbt macros, run by dbt on small inline fixtures (`dbt show
--inline`): per-environment naming, enum spellings, the NULL-safe composite key and the version
order. No pipeline runs; each check is one dbt invocation against an empty DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.runs import run_dbt


def show(sql: str, tmp_path: Path, **fragments: str) -> list[dict]:
    """The rows of `sql` (Jinja with the project's macros), as dbt compiles and runs it. Each of
    `fragments` is a Jinja variable holding that SQL text, so it needs no quoting."""
    sets = "".join(f"{{% set {name} %}}{text}{{% endset %}}" for name, text in fragments.items())
    result = run_dbt(
        ["show", "--inline", sets + sql, "--output", "json", "--limit", "100"],
        tmp_path / "macros.duckdb",
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    shown = result.event_data("ShowNode")
    assert shown, f"no rows in dbt's output: {result.stdout[-3000:]}"
    return json.loads(shown[0]["preview"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("macros")


def test_environment_tables_are_named_by_the_docs_rule_whatever_the_id(workdir):
    ids = {
        "uuid": "4f1c2d3e-aa00-4b5c-9d8e-000000000001",
        "injection": 'x"; DROP TABLE t; --',
        "quote": "prod'); DROP TABLE stigg.USAGE_EVENTS; --",
        "unicode": "Straße ünïcode",
        "whitespace": "a b\tc",
        "plain": "ALREADY_OK_1",
    }
    columns = ", ".join(f"{{{{ stigg_environment_table_name({name}) }}}} as {name}" for name in ids)
    literals = {name: "'" + value.replace("'", "''") + "'" for name, value in ids.items()}
    [row] = show(f"select {columns}", workdir, **literals)
    assert row == {
        "uuid": "USAGE_EVENTS_4F1C2D3E_AA00_4B5C_9D8E_000000000001",
        "injection": "USAGE_EVENTS_X___DROP_TABLE_T____",
        "quote": "USAGE_EVENTS_PROD____DROP_TABLE_STIGG_USAGE_EVENTS____",
        "unicode": "USAGE_EVENTS_STRA_E__N_CODE",
        "whitespace": "USAGE_EVENTS_A_B_C",
        "plain": "USAGE_EVENTS_ALREADY_OK_1",
    }


def test_enum_values_take_the_docs_spelling_and_unknown_ones_stay(workdir):
    spelled = {
        # PROMOTIONAL_ENTITLEMENTS.PERIOD: the doc's ONE_MONTH ..., the other API's "1 month" ...
        "period": ["1 month", "6 months", "one-year", "ONE_WEEK", "fortnight"],
        # FEATURES.METER_TYPE: the doc's Fluctuating, the other API's FLUCTUATING
        "meter": ["FLUCTUATING", "incremental", " none ", "Metered"],
    }
    tables = {"period": "PROMOTIONAL_ENTITLEMENTS", "meter": "FEATURES"}
    column_of = {"period": "PERIOD", "meter": "METER_TYPE"}
    selects = []
    for kind, values in spelled.items():
        enum = (
            "(stigg_table('"
            + tables[kind]
            + "').columns | selectattr('name', 'equalto', '"
            + column_of[kind]
            + "') | first).enum"
        )
        for i, value in enumerate(values):
            selects.append(
                "{{ stigg_enum_spelling(\"'" + value + "'\", " + enum + ") }} as " + f"{kind}_{i}"
            )
    [row] = show("select " + ", ".join(selects), workdir)
    assert [row[f"period_{i}"] for i in range(5)] == [
        "ONE_MONTH", "SIX_MONTH", "ONE_YEAR", "ONE_WEEK", "fortnight",
    ]  # fmt: skip
    assert [row[f"meter_{i}"] for i in range(4)] == [
        "Fluctuating", "Incremental", "None", "Metered",
    ]  # fmt: skip


def test_a_composite_key_with_a_null_is_still_tested_for_duplicates(workdir):
    rows = "(values ('env', null, 'r1'), ('env', null, 'r1'), ('env', 'c1', 'r1')) as t(e, c, r)"
    duplicates = show(
        "{{ test_stigg_unique_key(model=rows, columns=['e', 'c', 'r']) }}", workdir, rows=rows
    )
    assert duplicates == [{"e": "env", "c": None, "r": "r1", "rows_with_this_key": 2}]
    # A key concatenated into one string is NULL for those rows, so they are never compared.
    concatenated = show(
        f"select e || '|' || c || '|' || r as k, count(*) from {rows} "
        "where e || '|' || c || '|' || r is not null group by 1 having count(*) > 1",
        workdir,
    )
    assert concatenated == []


def test_the_current_version_is_the_latest_then_the_later_transfer_file_and_hash(workdir):
    """stigg_latest_versions over CUSTOMER_RESOURCES-shaped rows, worked out by hand: r1's
    later UPDATED_AT wins over a later transfer; r2's tie on UPDATED_AT goes to the later
    transfer; r3's tie on both goes to the later file; r4 is a single row; r5 ties on all three
    and the larger content hash wins; a NULL key is one key."""
    rows = [
        # RESOURCE_ID, UPDATED_AT, transfer, file, CREATED_AT (content)
        ("r1", "2025-01-02", "2025-01-02", "a", "2025-01-01"),
        ("r1", "2025-01-01", "2025-01-05", "b", "2025-01-01"),
        ("r2", "2025-01-01", "2025-01-03", "a", "2025-01-01"),
        ("r2", "2025-01-01", "2025-01-04", "a", "2025-01-02"),
        ("r3", "2025-01-01", "2025-01-03", "a", "2025-01-01"),
        ("r3", "2025-01-01", "2025-01-03", "b", "2025-01-02"),
        ("r4", "2025-01-01", "2025-01-03", "a", "2025-01-01"),
        ("r5", "2025-01-01", "2025-01-03", "a", "2025-01-01"),
        ("r5", "2025-01-01", "2025-01-03", "a", "2025-01-02"),
        (None, "2025-01-01", "2025-01-03", "a", "2025-01-01"),
        (None, "2025-01-02", "2025-01-03", "a", "2025-01-01"),
    ]

    def literal(value):
        return "null" if value is None else f"'{value}'"

    values = ", ".join(
        f"('env', {literal(r)}, 'c1', timestamptz '{c} 00:00:00+00', timestamptz '{u} 00:00:00+00',"
        f" timestamptz '{t} 00:00:00+00', '{f}')"
        for r, u, t, f, c in rows
    )
    relation = (
        f"(select * from (values {values}) as v(ENVIRONMENT_ID, RESOURCE_ID, CUSTOMER_ID, "
        "CREATED_AT, UPDATED_AT, _stigg_transfer_at, _stigg_source_file))"
    )
    sql = (
        "with versions as ({{ stigg_latest_versions(stigg_table('CUSTOMER_RESOURCES'), rows) }})"
        " select RESOURCE_ID, strftime(CREATED_AT, '%Y-%m-%d') as created, "
        "strftime(UPDATED_AT, '%Y-%m-%d') as updated, _stigg_source_file as file, "
        "{{ stigg_row_hash(stigg_table('CUSTOMER_RESOURCES')) }} as hash "
        "from versions where is_most_recent_record order by RESOURCE_ID nulls last"
    )
    current = show(sql, workdir, rows=relation)
    by_resource = {
        row["RESOURCE_ID"]: (row["created"], row["updated"], row["file"]) for row in current
    }
    assert by_resource["r1"] == ("2025-01-01", "2025-01-02", "a")
    assert by_resource["r2"] == ("2025-01-02", "2025-01-01", "a")
    assert by_resource["r3"] == ("2025-01-02", "2025-01-01", "b")
    assert by_resource["r4"] == ("2025-01-01", "2025-01-01", "a")
    assert by_resource[None] == ("2025-01-01", "2025-01-02", "a")
    assert len(current) == 6  # one per key, the NULL key included
    # r5: the two rows differ only in content; the one whose content hashes larger is current.
    r5 = show(
        "select max({{ stigg_row_hash(stigg_table('CUSTOMER_RESOURCES')) }}) as hash "
        f"from {relation} where RESOURCE_ID = 'r5'",
        workdir,
    )
    assert [row["hash"] for row in current if row["RESOURCE_ID"] == "r5"] == [r5[0]["hash"]]
