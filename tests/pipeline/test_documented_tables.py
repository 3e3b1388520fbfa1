"""The 17 documented tables: exact to the doc, current state, enums, rejects, per-environment events.

A hand-built export (two transfers) carries one case of each rule, and the expected rows are
worked out by hand below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.spec.tables import TABLES
from tests.support.runs import run_cli, run_dbt
from tests.support.warehouse import query

pytestmark = [pytest.mark.slow, pytest.mark.ci]

T1, T2 = "20250101020000", "20250102020000"
HOSTILE_ENV = "prod'; DROP TABLE stigg.CUSTOMERS; --"


def ts(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, tzinfo=UTC)


def write(root: Path, folder: str, transfer: str, rows: list[dict], part: str = "0000") -> None:
    dt = f"{transfer[:4]}-{transfer[4:6]}-{transfer[6:8]}"
    path = root / folder / f"dt={dt}" / f"{part}_{transfer}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def customer(id_: str, name: str, updated: datetime | str, **extra) -> dict:
    created = ts(1) if isinstance(updated, datetime) else "2025-01-01T00:00:00Z"
    row = {
        "CUSTOMER_ID": f"cust-{id_}", "NAME": name, "ENVIRONMENT_ID": "env-a",
        "HAS_ACTIVE_SUBSCRIPTION": True if isinstance(updated, datetime) else "true",
        "ID": id_, "UPDATED_AT": updated, "CREATED_AT": created,
    }  # fmt: skip
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("documented")
    export = tmp / "export"
    # Transfer 1: typed columns.
    write(export, "customers", T1, [
        customer("c-upd", "Old", ts(1)),
        customer("c-rep", "Same", ts(1)),
        customer("c-tie", "First", ts(1, 5)),
        customer("c-stale", "Was valid", ts(1)),
    ])  # fmt: skip
    # Transfer 2: timestamps and booleans as text, as the doc allows; EMAIL never appears.
    write(export, "customers", T2, [
        customer("c-upd", "New", "2025-01-02T00:00:00Z", DEFAULT_PAYMENT_METHOD_TYPE="PAYPAL"),
        customer("c-rep", "Same", "2025-01-01T00:00:00Z"),
        customer("c-tie", "Second", "2025-01-01T05:00:00Z"),
        customer("c-file", "Part0", "2025-01-02T01:00:00Z"),
        customer("c-str", "Offset", "2025-01-02T03:00:00+02:00"),
        customer("c-null", "No identifier", "2025-01-02T00:00:00Z", CUSTOMER_ID=None),
        customer("c-badts", "Bad time", "2025-01-02T00:00:00Z", CREATED_AT="yesterday"),
        customer("c-stale", "Now broken", "2025-01-02T00:00:00Z", HAS_ACTIVE_SUBSCRIPTION="maybe"),
    ])  # fmt: skip
    write(
        export, "customers", T2, [customer("c-file", "Part1", "2025-01-02T01:00:00Z")], part="0001"
    )

    plan = {"CREATED_AT": ts(1), "UPDATED_AT": ts(1), "PLAN_ID": "plan-pro", "DISPLAY_NAME": "Pro",
            "ENVIRONMENT_ID": "env-a", "PRODUCT_ID": "product-core"}  # fmt: skip
    write(export, "plans", T1, [plan | {"ID": "p-v1", "VERSION_NUMBER": 1, "IS_LATEST": True}])
    write(export, "plans", T2, [
        plan | {"ID": "p-v1", "VERSION_NUMBER": 1, "IS_LATEST": False, "UPDATED_AT": ts(2)},
        plan | {"ID": "p-v2", "VERSION_NUMBER": 2, "IS_LATEST": True, "UPDATED_AT": ts(2)},
    ])  # fmt: skip
    feature = {
        "CREATED_AT": ts(1),
        "UPDATED_AT": ts(1),
        "FEATURE_TYPE": "NUMBER",
        "ENVIRONMENT_ID": "env-a",
    }
    write(export, "features", T1, [
        feature | {"ID": "f1", "DISPLAY_NAME": "Seats", "FEATURE_ID": "seats", "METER_TYPE": "FLUCTUATING"},
        feature | {"ID": "f2", "DISPLAY_NAME": "Calls", "FEATURE_ID": "calls", "METER_TYPE": "incremental"},
    ])  # fmt: skip
    promo = {"CUSTOMER_ID": "cust-c-upd", "FEATURE_ID": "seats", "CREATED_AT": ts(1), "UPDATED_AT": ts(1),
             "START_DATE": ts(1), "STATUS": "Active", "ENVIRONMENT_ID": "env-a"}  # fmt: skip
    write(export, "promotional_entitlements", T1, [
        promo | {"ID": "pr1", "PERIOD": "1 month"},
        promo | {"ID": "pr2", "PERIOD": "6 months"},
    ])  # fmt: skip
    event = {"CUSTOMER_ID": "cust-c-upd", "EVENT_NAME": "api_call", "CREATED_AT": ts(1), "TIMESTAMP": ts(1),
             "DIMENSIONS": "{}", "IDEMPOTENCY_KEY": "k"}  # fmt: skip
    write(export, "usage_events", T1, [event | {"ID": "e1", "ENVIRONMENT_ID": HOSTILE_ENV}])
    write(
        export, "usage_events", T2, [event | {"ID": "e1", "ENVIRONMENT_ID": HOSTILE_ENV}]
    )  # a repeat
    write(export, "usage_events_env-b", T2, [event | {"ID": "e2"}, event | {"ID": "e3"}])
    write(export, "Usage_Events_env-c", T2, [event | {"ID": "e4"}])  # a folder in mixed case

    env = {"PATH": __import__("os").environ["PATH"], "HOME": str(tmp),
           "STIGG_EXPORT_URI": str(export), "STIGG_WAREHOUSE_PATH": str(tmp / "w.duckdb"),
           "DAGSTER_HOME": str(tmp / "dagster_home")}  # fmt: skip
    result = run_cli(["run", "--verbose"], env)  # --verbose: dbt's own lines too
    return result, tmp / "w.duckdb"


def test_the_run_succeeds_with_warnings_not_errors(built):
    result, _ = built
    assert result.returncode == 0, result.stdout[-4000:]
    assert "dbt tests:" in result.stdout and " 0 failed" in result.stdout


def test_current_state_is_the_latest_row_per_key(built):
    _, warehouse = built
    rows = query(warehouse, 'SELECT ID, NAME, UPDATED_AT, EMAIL FROM stigg."CUSTOMERS" ORDER BY ID')
    assert rows == [
        ("c-file", "Part1", ts(2, 1), None),  # equal UPDATED_AT in one transfer: the later file
        ("c-rep", "Same", ts(1), None),  # an identical repeat is one row
        ("c-str", "Offset", ts(2, 1), None),  # a string timestamp with an offset, in UTC
        ("c-tie", "Second", ts(1, 5), None),  # equal UPDATED_AT: the later transfer
        ("c-upd", "New", ts(2), None),  # the latest UPDATED_AT
    ]


def test_plans_keep_one_row_per_version(built):
    _, warehouse = built
    assert query(
        warehouse, 'SELECT ID, VERSION_NUMBER, IS_LATEST FROM stigg."PLANS" ORDER BY ID'
    ) == [
        ("p-v1", 1, False),
        ("p-v2", 2, True),
    ]


def test_enum_spellings_of_the_other_api_take_the_docs_spelling(built):
    _, warehouse = built
    assert query(warehouse, 'SELECT FEATURE_ID, METER_TYPE FROM stigg."FEATURES" ORDER BY 1') == [
        ("calls", "Incremental"),
        ("seats", "Fluctuating"),
    ]
    assert query(
        warehouse, 'SELECT ID, PERIOD FROM stigg."PROMOTIONAL_ENTITLEMENTS" ORDER BY 1'
    ) == [
        ("pr1", "ONE_MONTH"),
        ("pr2", "SIX_MONTH"),
    ]


def test_an_unknown_enum_value_stays_and_its_check_warns(built):
    result, warehouse = built
    assert query(
        warehouse,
        """SELECT DEFAULT_PAYMENT_METHOD_TYPE FROM stigg."CUSTOMERS" WHERE ID = 'c-upd'""",
    ) == [("PAYPAL",)]
    assert "stigg/CUSTOMERS:accepted_values_CUSTOMERS (WARN, 1 rows)" in result.stdout


def test_rows_that_break_the_contract_are_rejected_with_reasons(built):
    result, warehouse = built
    rejects = query(
        warehouse,
        "SELECT ID, rejection_reason, _stigg_source_file FROM rejects.customers ORDER BY ID",
    )
    assert rejects == [
        ("c-badts", "CREATED_AT: cannot cast yesterday to TIMESTAMP_TZ", f"customers/dt=2025-01-02/0000_{T2}.parquet"),
        ("c-null", "NULL in mandatory column CUSTOMER_ID", f"customers/dt=2025-01-02/0000_{T2}.parquet"),
        ("c-stale", "HAS_ACTIVE_SUBSCRIPTION: cannot cast maybe to BOOLEAN", f"customers/dt=2025-01-02/0000_{T2}.parquet"),
    ]  # fmt: skip
    assert (
        "stigg/CUSTOMERS:stigg_no_rejected_rows_CUSTOMERS_ref_rejects_customers_ (WARN, 3 rows)"
        in result.stdout
    )


def test_reconciliation_accounts_for_every_key(built):
    result, warehouse = built
    raw_keys = query(warehouse, "SELECT count(DISTINCT id) FROM raw.customers")[0][0]
    documented = query(warehouse, 'SELECT count(*) FROM stigg."CUSTOMERS"')[0][0]
    rejected = query(warehouse, "SELECT count(DISTINCT ID) FROM rejects.customers")[0][0]
    assert (raw_keys, documented, rejected) == (8, 5, 3)
    summary = result.stdout[result.stdout.index("\nLanded ") :]
    assert "stigg_reconciles_with_raw" not in summary  # no problem line names it
    assert "PASS stigg_reconciles_with_raw_CUSTOMERS" in result.stdout


def test_usage_events_get_a_table_per_environment_with_hostile_ids_quoted(built):
    _, warehouse = built
    assert query(
        warehouse, 'SELECT ENVIRONMENT_ID, count(*) FROM stigg."USAGE_EVENTS" GROUP BY 1 ORDER BY 1'
    ) == [
        ("env-b", 2),  # taken from the usage_events_env-b folder
        ("env-c", 1),  # from the Usage_Events_env-c folder: matched in any case
        (HOSTILE_ENV, 1),  # a repeated event is one row
    ]
    hostile = "USAGE_EVENTS_PROD___DROP_TABLE_STIGG_CUSTOMERS____"
    assert query(warehouse, f'SELECT ID, ENVIRONMENT_ID FROM stigg."{hostile}"') == [
        ("e1", HOSTILE_ENV)
    ]
    assert query(warehouse, 'SELECT ID FROM stigg."USAGE_EVENTS_ENV_B" ORDER BY 1') == [
        ("e2",),
        ("e3",),
    ]
    assert query(warehouse, 'SELECT ID FROM stigg."USAGE_EVENTS_ENV_C"') == [("e4",)]
    assert query(warehouse, 'SELECT count(*) FROM stigg."CUSTOMERS"') == [(5,)]  # not dropped


def test_every_documented_table_matches_the_doc_in_names_order_types_and_not_null(built):
    _, warehouse = built
    environment_tables = [
        "USAGE_EVENTS_PROD___DROP_TABLE_STIGG_CUSTOMERS____",
        "USAGE_EVENTS_ENV_B",
        "USAGE_EVENTS_ENV_C",
    ]
    expected_tables = {t.name for t in TABLES} | set(environment_tables)
    tables = {
        r[0]
        for r in query(
            warehouse,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'stigg'",
        )
    }
    assert tables == expected_tables
    usage_events = next(t for t in TABLES if t.name == "USAGE_EVENTS")
    for table_name, spec in [(t.name, t) for t in TABLES] + [
        (n, usage_events) for n in environment_tables
    ]:
        columns = query(
            warehouse,
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'stigg' AND table_name = ? ORDER BY ordinal_position",
            [table_name],
        )
        # USAGE_EVENTS is ours, a view over the documented USAGE_EVENTS_<ENV> tables, which
        # carry the NOT NULL constraints (a view has none).
        is_view = table_name == "USAGE_EVENTS"
        expected = [
            (
                c.name,
                spec.warehouse_type(c).replace(",", ","),
                "NO" if c.mandatory and not is_view else "YES",
            )
            for c in spec.columns
        ]
        assert columns == expected, table_name


def test_docs_are_persisted_as_comments(built):
    _, warehouse = built
    comment = query(
        warehouse,
        "SELECT comment FROM duckdb_columns() WHERE schema_name = 'stigg' AND table_name = 'SUBSCRIPTIONS' AND column_name = 'STATUS'",
    )
    assert comment[0][0].startswith(
        "Enum. Subscription status. Can be one of: PAYMENT_PENDING, ACTIVE"
    )
    table_comment = query(
        warehouse,
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'stigg' AND table_name = 'CUSTOMERS'",
    )
    assert "customer of your application" in table_comment[0][0]


def test_environments_that_map_to_one_name_are_an_error_naming_both(tmp_path):
    export = tmp_path / "export"
    event = {"CUSTOMER_ID": "c", "EVENT_NAME": "x", "CREATED_AT": ts(1), "TIMESTAMP": ts(1),
             "DIMENSIONS": "{}", "IDEMPOTENCY_KEY": "k"}  # fmt: skip
    write(export, "usage_events", T1, [event | {"ID": "e1", "ENVIRONMENT_ID": "team-a"},
                                       event | {"ID": "e2", "ENVIRONMENT_ID": "team_a"}])  # fmt: skip
    env = {"PATH": __import__("os").environ["PATH"], "HOME": str(tmp_path), "STIGG_EXPORT_URI": str(export),
           "STIGG_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "DAGSTER_HOME": str(tmp_path / "dh")}  # fmt: skip
    result = run_cli(["run"], env)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert '"team-a"' in output and '"team_a"' in output and "USAGE_EVENTS_TEAM_A" in output
    assert not (tmp_path / "w.duckdb").exists()  # nothing was published


def test_dbt_tests_fail_on_a_warehouse_that_breaks_them(built, tmp_path):
    """Drop two customers and duplicate a third in a copy: reconciliation and unique must fail."""
    import shutil

    _, warehouse = built
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("""DELETE FROM stigg."CUSTOMERS" WHERE ID IN ('c-rep', 'c-tie')""")
        con.execute(
            """INSERT INTO stigg."CUSTOMERS" SELECT * FROM stigg."CUSTOMERS" WHERE ID = 'c-upd'"""
        )
    result = run_dbt(["test", "--select", "CUSTOMERS"], broken, tmp_path)
    assert result.returncode == 1
    assert "FAIL 1 stigg_reconciles_with_raw_CUSTOMERS" in result.stdout
    assert "FAIL 1 unique_CUSTOMERS_ID" in result.stdout
