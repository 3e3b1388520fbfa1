"""The project's rules that live in dbt macros, run by dbt on small inline fixtures (`dbt show
--inline`): per-environment naming, enum spellings, the NULL-safe composite key and the version
order. No pipeline runs; each check is one dbt invocation against an empty DuckDB file. And the
layout of the SQL that engines write differently (macros/dialect/), read from the files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR
from tests.support.runs import run_dbt

MACROS = DBT_PROJECT_DIR / "macros"
DIALECT = MACROS / "dialect"


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
    columns = ", ".join(
        f"{{{{ stigg_environment_table_name(stigg_table('USAGE_EVENTS'), {name}) }}}} as {name}"
        for name in ids
    )
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


def test_a_macro_without_sql_for_the_adapter_fails_naming_the_adapter_and_the_file(workdir):
    """A default__ with no portable SQL fails the build rather than write DuckDB's SQL. DuckDB
    has its own variant, so the default is called here as dispatch calls it for an adapter
    without one."""
    result = run_dbt(
        ["compile", "--inline", "select {{ default__stigg_row_value(['a', 'b']) }}"],
        workdir / "macros.duckdb",
        workdir,
    )
    assert result.returncode != 0
    assert (
        "stigg_warehouse has no stigg_row_value for adapter 'duckdb': add a duckdb__stigg_row_value"
        " macro (dbt_project/macros/dialect/stigg_row_value.sql)"
    ) in result.stdout


_MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(.*?\)\s*-?%}(.*?){%-?\s*endmacro\s*-?%}", re.S)
_DISPATCH = re.compile(r"adapter\.dispatch\('(\w+)', 'stigg_warehouse'\)")
# SQL that one engine writes and a portable default must not: DuckDB's, then Spark's. It names
# the functions and forms this project has used, so it catches those, not every engine's dialect.
_ENGINE_ONLY_SQL = re.compile(
    r"list_\w+\(|\blen\(|\bsemi join|\banti join|\brow\(|strftime|epoch_ms|array_to_string"
    r"|\bunnest\(|generate_series|not materialized|from_json|\btimezone\(|\bdate_diff\("
    r"|'g'\)|\bnow\(\)|create or replace|::"
    r"|\bstruct\(|\bsize\(|array_join|date_format|timestampdiff|try_element_at|\bfilter\("
    r"|lateral view|using parquet|show tables",
    re.I,
)


def _macros(path: Path) -> dict[str, str]:
    return {name: body for name, body in _MACRO.findall(path.read_text(encoding="utf-8"))}


def test_every_dispatched_macro_has_its_own_file_and_a_default_that_is_portable_or_fails():
    """Each macro the project dispatches lives in macros/dialect/<macro>.sql with its variants
    and a default__; the default either names no engine's SQL (no function of _ENGINE_ONLY_SQL)
    or fails with stigg_unsupported_adapter."""
    files_of: dict[str, list[str]] = {}
    for path in MACROS.rglob("*.sql"):
        for name, body in _macros(path).items():
            files_of.setdefault(name, []).append(path.relative_to(MACROS).as_posix())
            for dispatched in _DISPATCH.findall(body):
                assert dispatched == name, f"{name} dispatches {dispatched}"
    dispatchers = {
        name
        for path in MACROS.rglob("*.sql")
        for name, body in _macros(path).items()
        if _DISPATCH.search(body)
    }
    assert {p.stem for p in DIALECT.glob("*.sql")} == dispatchers
    for name in sorted(dispatchers):
        home = f"dialect/{name}.sql"
        variants = {m for m in files_of if m == name or m.endswith("__" + name)}
        assert {m: files_of[m] for m in variants} == {m: [home] for m in variants}
        assert set(_macros(DIALECT / f"{name}.sql")) == variants, home
        assert f"default__{name}" in variants, f"{home} has no default__{name}"
        default = _macros(DIALECT / f"{name}.sql")[f"default__{name}"].strip()
        if "stigg_unsupported_adapter" in default:
            assert default == f"{{{{ stigg_unsupported_adapter('{name}') }}}}", default
        else:
            assert not _ENGINE_ONLY_SQL.search(default), f"default__{name}: {default}"
