"""Hostile input, end to end: each case ends in a named error or in quarantined rows, never in loss.

One export carries most cases at once (they sit in different models or records, so they cannot
hide each other) and is run once through `stigg-warehouse run`; the cases that need a run of their
own (no export, an empty one, a file replaced after landing) have it. Every test asserts the
specific outcome: the message, the counts, the rows.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.spec.tables import TABLES
from tests.support.runs import run_cli
from tests.support.warehouse import query

TABLE_BY_MODEL = {t.model: t for t in TABLES}
RECONCILIATION = (
    "SELECT raw_rows, current_rows, superseded_rows, repeated_rows, rejected_rows, accounted_rows "
    "FROM meta.reconciliation WHERE table_name = ?"
)

pytestmark = [pytest.mark.slow, pytest.mark.ci]

T1, T2 = "20250101020000", "20250102020000"
DT1, DT2 = "2025-01-01", "2025-01-02"
INJECTED_COLUMN = 'x"; DROP TABLE raw.customers; --'
HOSTILE_ENV = "prod'); DROP TABLE stigg.USAGE_EVENTS; --"
UNICODE_NAME = "Zoë Ærøskøbing 😀 مرحبا 漢字 \u200b"
LONG_TEXT = "ß" * 1_000_000


def path(root: Path, folder: str, name: str, dt: str = DT1) -> Path:
    target = root / folder / f"dt={dt}" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def parquet(
    root: Path, folder: str, rows: list[dict], transfer: str = T1, part: str = "0000"
) -> Path:
    dt = f"{transfer[:4]}-{transfer[4:6]}-{transfer[6:8]}"
    target = path(root, folder, f"{part}_{transfer}.parquet", dt)
    write_rows(rows, target)
    return target


def write_rows(rows: list[dict], target: Path) -> None:
    """A Parquet file with every key of every row as a column (from_pylist reads the first only)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    pq.write_table(pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]), target)


def customer(id_: str, **extra) -> dict:
    row = {
        "ID": id_, "CUSTOMER_ID": f"cust-{id_}", "NAME": id_, "ENVIRONMENT_ID": "env-a",
        "HAS_ACTIVE_SUBSCRIPTION": "true", "CREATED_AT": "2025-01-01T00:00:00Z",
        "UPDATED_AT": "2025-01-01T01:00:00Z", "DEFAULT_PAYMENT_EXPIRATION_MONTH": "7",
    }  # fmt: skip
    row.update(extra)
    return row


def build_hostile_export(root: Path) -> dict[str, str]:
    """Writes the export; returns the relative path of each file a case refers to."""
    files = {}
    # Records: all in customers, one record per case.
    parquet(root, "customers", [
        customer("c-ok"),
        customer("c-null", CUSTOMER_ID=None),
        customer("c-number", DEFAULT_PAYMENT_EXPIRATION_MONTH="twelve"),
        customer("c-badts", CREATED_AT="the day before yesterday"),
        customer("c-offset", UPDATED_AT="2025-01-01T12:00:00+05:30"),
        customer("c-far", CREATED_AT="0001-01-01T00:00:00Z", UPDATED_AT="9999-12-31T23:59:59Z"),
        customer("c-enum", DEFAULT_PAYMENT_METHOD_TYPE="PAYPAL"),
        customer("c-unicode", NAME=UNICODE_NAME, ADDITIONAL_META_DATA=LONG_TEXT),
        customer("c-tie", NAME="Ann", UPDATED_AT="2025-01-01T05:00:00Z"),
        customer("c-tie", NAME="Bob", UPDATED_AT="2025-01-01T05:00:00Z"),
        customer("c-repeat"),
        customer("c-repeat"),
        customer("c-injection", **{INJECTED_COLUMN: "1); DROP TABLE stigg.CUSTOMERS; --"}),
    ], transfer=T1)  # fmt: skip

    # Files.
    good = parquet(root, "subscriptions", [{"ID": "s1", "SUBSCRIPTION_ID": "sub-1"}], T1)
    truncated = parquet(
        root, "subscriptions", [{"ID": f"s{i}", "X": "y" * 50} for i in range(500)], T2
    )
    truncated.write_bytes(truncated.read_bytes()[:300])
    files["truncated_parquet"] = truncated.relative_to(root).as_posix()
    files["good_subscriptions"] = good.relative_to(root).as_posix()

    gz = path(root, "usage_measurements", f"0000_{T1}.json.gz")
    payload = gzip.compress(
        "".join(json.dumps({"ID": f"m{i}", "VALUE": i}) + "\n" for i in range(5000)).encode()
    )
    gz.write_bytes(payload[: len(payload) // 2])
    files["corrupt_gzip"] = gz.relative_to(root).as_posix()

    empty_parquet = path(root, "features", f"0000_{T1}.parquet")
    empty_parquet.write_bytes(b"")
    files["zero_byte_parquet"] = empty_parquet.relative_to(root).as_posix()
    empty_csv = path(root, "promotional_entitlements", f"0000_{T1}.csv")
    empty_csv.write_bytes(b"")
    files["zero_byte_csv"] = empty_csv.relative_to(root).as_posix()

    header_only = path(root, "coupons", f"0000_{T1}.csv")
    header_only.write_text("ID,COUPON_ID,UPDATED_AT\n")
    files["header_only_csv"] = header_only.relative_to(root).as_posix()

    zero_rows = root / "plans" / f"dt={DT1}" / f"0000_{T1}.parquet"
    zero_rows.parent.mkdir(parents=True)
    pq.write_table(
        pa.table({"ID": pa.array([], pa.string()), "PLAN_ID": pa.array([], pa.string())}), zero_rows
    )
    files["zero_row_parquet"] = zero_rows.relative_to(root).as_posix()

    latin1 = path(root, "products", f"0000_{T1}.csv")
    latin1.write_bytes(b"ID,PRODUCT_ID,DISPLAY_NAME\np1,prod-1,ok\np2,prod-2,caf\xe9\n")
    files["non_utf8_csv"] = latin1.relative_to(root).as_posix()

    semicolons = path(root, "addons", f"0000_{T1}.csv")
    semicolons.write_text(
        'ID;ADDON_ID;DESCRIPTION\na1;"add;on";"two\nlines, ""quoted"""\na2;addon-2;plain\n'
    )
    files["semicolon_csv"] = semicolons.relative_to(root).as_posix()

    ndjson = path(root, "prices", f"0000_{T1}.json")
    ndjson.write_text('{"ID": "pr1"}\n{"ID": "pr2", "BILLING_MODEL": oops}\n{"ID": "pr3"}\n')
    files["broken_ndjson"] = ndjson.relative_to(root).as_posix()

    path(root, "customers", "notes.txt").write_text("not data")
    files["bad_name"] = f"customers/dt={DT1}/notes.txt"
    write_rows([customer("c-unnamed")], path(root, "customers", "part_latest.parquet"))
    files["bad_transfer"] = f"customers/dt={DT1}/part_latest.parquet"
    files["unknown_folder"] = (
        parquet(root, "invoices", [{"ID": "i1"}], T1).relative_to(root).as_posix()
    )

    event = {"CUSTOMER_ID": "cust-c-ok", "EVENT_NAME": "api_call", "CREATED_AT": "2025-01-01T00:00:00Z",
             "TIMESTAMP": "2025-01-01T00:00:00Z", "DIMENSIONS": "{}", "IDEMPOTENCY_KEY": "k"}  # fmt: skip
    parquet(root, "usage_events", [event | {"ID": "e1", "ENVIRONMENT_ID": HOSTILE_ENV}], T1)
    return files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    export = tmp / "export"
    files = build_hostile_export(export)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    env.update(STIGG_EXPORT_URI=str(export), STIGG_WAREHOUSE_PATH=str(tmp / "w.duckdb"),
               DAGSTER_HOME=str(tmp / "dagster_home"))  # fmt: skip
    result = run_cli(["run"], env)
    return result, tmp / "w.duckdb", files


def manifest(warehouse: Path, relative: str) -> tuple:
    return query(
        warehouse, "SELECT status, rows, error FROM meta.landed_files WHERE path = ?", [relative]
    )


def customers_row(warehouse: Path, id_: str, columns: str) -> list[tuple]:
    return query(warehouse, f'SELECT {columns} FROM stigg."CUSTOMERS" WHERE ID = ?', [id_])


def rejection(warehouse: Path, id_: str) -> list[tuple]:
    return query(warehouse, "SELECT rejection_reason FROM rejects.customers WHERE ID = ?", [id_])


# --- the run as a whole ---------------------------------------------------------------------


def test_the_run_reports_failed_files_exits_1_and_still_publishes_the_good_data(hostile):
    result, warehouse, files = hostile
    assert result.returncode == 1, result.stdout[-3000:]
    for case in (
        "truncated_parquet",
        "corrupt_gzip",
        "zero_byte_parquet",
        "non_utf8_csv",
        "broken_ndjson",
    ):
        assert f"FAILED FILE {files[case]}" in result.stdout
    assert customers_row(warehouse, "c-ok", "NAME") == [("c-ok",)]


def test_every_row_of_every_readable_file_lands(hostile):
    _, warehouse, _ = hostile
    assert query(warehouse, "SELECT count(*) FROM raw.customers") == [(13,)]
    assert query(
        warehouse,
        "SELECT sum(rows) FROM meta.landed_files WHERE status = 'landed' AND model = 'customers'",
    ) == [(13,)]


# --- files ------------------------------------------------------------------------------------


def test_truncated_parquet_is_named_failed_and_its_neighbour_lands(hostile):
    _, warehouse, files = hostile
    status, rows, error = manifest(warehouse, files["truncated_parquet"])[0]
    assert status == "failed" and rows is None and error
    assert manifest(warehouse, files["good_subscriptions"])[0][:2] == ("landed", 1)


def test_corrupt_gzip_is_named_failed(hostile):
    _, warehouse, files = hostile
    status, _, error = manifest(warehouse, files["corrupt_gzip"])[0]
    assert status == "failed" and error
    assert query(warehouse, "SELECT count(*) FROM raw.usage_measurements") == [(0,)]


def test_zero_byte_parquet_is_named_failed(hostile):
    _, warehouse, files = hostile
    status, _, error = manifest(warehouse, files["zero_byte_parquet"])[0]
    assert status == "failed" and error == "an empty file (0 bytes) is not a Parquet file"


def test_zero_byte_csv_lands_as_zero_rows(hostile):
    _, warehouse, files = hostile
    assert manifest(warehouse, files["zero_byte_csv"])[0][:2] == ("landed", 0)


def test_header_only_csv_lands_as_zero_rows(hostile):
    _, warehouse, files = hostile
    assert manifest(warehouse, files["header_only_csv"])[0][:2] == ("landed", 0)


def test_zero_row_parquet_lands_as_zero_rows(hostile):
    _, warehouse, files = hostile
    assert manifest(warehouse, files["zero_row_parquet"])[0][:2] == ("landed", 0)


def test_non_utf8_csv_is_failed_naming_the_line(hostile):
    result, warehouse, files = hostile
    status, _, error = manifest(warehouse, files["non_utf8_csv"])[0]
    assert (status == "failed" and "Line: 3" in error) or "line 3" in error.lower(), error
    assert files["non_utf8_csv"] in result.stdout


def test_semicolons_quotes_and_newlines_in_csv_land_exactly(hostile):
    _, warehouse, _ = hostile
    assert query(warehouse, "SELECT id, addon_id, description FROM raw.addons ORDER BY id") == [
        ("a1", "add;on", 'two\nlines, "quoted"'),
        ("a2", "addon-2", "plain"),
    ]


def test_ndjson_with_a_broken_line_is_failed_naming_the_line(hostile):
    _, warehouse, files = hostile
    status, _, error = manifest(warehouse, files["broken_ndjson"])[0]
    assert status == "failed", error
    assert error == "Malformed JSON on line 2, column 32: Expecting value", error


def test_a_file_name_outside_the_transfer_pattern_is_skipped_with_a_warning(hostile):
    result, warehouse, files = hostile
    for case in ("bad_name", "bad_transfer"):
        assert f"Skipped {files[case]}" in result.stdout
        assert manifest(warehouse, files[case]) == []
    assert customers_row(warehouse, "c-unnamed", "ID") == []


def test_an_unknown_model_folder_is_skipped_with_a_warning(hostile):
    result, warehouse, files = hostile
    assert f"Skipped {files['unknown_folder']}" in result.stdout
    tables = query(
        warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
    )
    assert ("invoices",) not in tables


# --- records ----------------------------------------------------------------------------------


def test_null_in_a_mandatory_column_is_rejected_with_its_reason(hostile):
    _, warehouse, _ = hostile
    assert rejection(warehouse, "c-null") == [("NULL in mandatory column CUSTOMER_ID",)]
    assert customers_row(warehouse, "c-null", "ID") == []


def test_text_in_a_number_column_is_rejected_with_the_value(hostile):
    _, warehouse, _ = hostile
    [(reason,)] = rejection(warehouse, "c-number")
    assert "DEFAULT_PAYMENT_EXPIRATION_MONTH: cannot cast twelve to a whole NUMBER" in str(reason)


def test_a_timestamp_that_is_not_a_timestamp_is_rejected(hostile):
    _, warehouse, _ = hostile
    [(reason,)] = rejection(warehouse, "c-badts")
    assert "CREATED_AT: cannot cast the day before yesterday" in str(reason)


def test_timestamps_with_offsets_are_converted_to_utc(hostile):
    _, warehouse, _ = hostile
    [(updated,)] = customers_row(
        warehouse, "c-offset", "strftime(UPDATED_AT AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')"
    )
    assert updated == "2025-01-01 06:30:00"


def test_dates_far_in_the_past_and_future_are_kept(hostile):
    _, warehouse, _ = hostile
    assert customers_row(
        warehouse,
        "c-far",
        "year(CREATED_AT AT TIME ZONE 'UTC'), year(UPDATED_AT AT TIME ZONE 'UTC')",
    ) == [(1, 9999)]


def test_an_unknown_enum_value_is_kept_and_warned(hostile):
    result, warehouse, _ = hostile
    assert customers_row(warehouse, "c-enum", "DEFAULT_PAYMENT_METHOD_TYPE") == [("PAYPAL",)]
    assert "accepted_values_CUSTOMERS (WARN, 1 rows)" in result.stdout


def test_unicode_and_a_megabyte_string_round_trip_exactly(hostile):
    _, warehouse, _ = hostile
    assert customers_row(warehouse, "c-unicode", "NAME, ADDITIONAL_META_DATA") == [
        (UNICODE_NAME, LONG_TEXT)
    ]


def test_same_id_same_updated_at_different_content_resolves_by_the_larger_row_hash(hostile):
    """Documented rule: equal UPDATED_AT, transfer and file → the row whose content hashes larger."""
    _, warehouse, _ = hostile
    columns = ", ".join(c.name for c in TABLE_BY_MODEL["customers"].columns)
    by_rule = query(
        warehouse,
        f"""SELECT NAME FROM staging.stg_stigg__customers WHERE ID = 'c-tie'
            ORDER BY md5(cast(row({columns}) AS varchar)) DESC LIMIT 1""",
    )
    assert customers_row(warehouse, "c-tie", "NAME") == by_rule
    assert query(warehouse, "SELECT count(*) FROM raw.customers WHERE id = 'c-tie'") == [(2,)]


def test_an_identical_repeat_is_one_row(hostile):
    _, warehouse, _ = hostile
    assert query(warehouse, "SELECT count(*) FROM raw.customers WHERE id = 'c-repeat'") == [(2,)]
    assert customers_row(warehouse, "c-repeat", "count(*)") == [(1,)]


def test_a_column_named_as_sql_injection_lands_as_a_column(hostile):
    _, warehouse, _ = hostile
    column = INJECTED_COLUMN.lower()
    quoted = '"' + column.replace('"', '""') + '"'
    assert query(warehouse, f"SELECT {quoted} FROM raw.customers WHERE id = 'c-injection'") == [
        ("1); DROP TABLE stigg.CUSTOMERS; --",)
    ]
    assert customers_row(warehouse, "c-injection", "ID") == [("c-injection",)]


def test_an_environment_id_crafted_as_sql_injection_names_a_quoted_table(hostile):
    _, warehouse, _ = hostile
    tables = {
        r[0]
        for r in query(
            warehouse,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'stigg'",
        )
    }
    assert "USAGE_EVENTS" in tables
    assert "USAGE_EVENTS_PROD____DROP_TABLE_STIGG_USAGE_EVENTS____" in tables
    assert query(warehouse, 'SELECT ENVIRONMENT_ID FROM stigg."USAGE_EVENTS"') == [(HOSTILE_ENV,)]


# --- runs of their own ------------------------------------------------------------------------


def test_an_export_location_that_does_not_exist_is_a_clear_error(tmp_path, pipeline_env):
    pipeline_env["STIGG_EXPORT_URI"] = str(tmp_path / "no-such-export")
    result = run_cli(["run"], pipeline_env)
    assert result.returncode == 2
    assert f"Stigg export location does not exist: {tmp_path / 'no-such-export'}" in result.stderr
    assert not Path(pipeline_env["STIGG_WAREHOUSE_PATH"]).exists()


def test_an_empty_export_location_publishes_empty_documented_tables(tmp_path, pipeline_env):
    (tmp_path / "empty").mkdir()
    pipeline_env["STIGG_EXPORT_URI"] = str(tmp_path / "empty")
    result = run_cli(["run"], pipeline_env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Landed 0 new files, 0 rows in total" in result.stdout
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    assert query(warehouse, 'SELECT count(*) FROM stigg."CUSTOMERS"') == [(0,)]


def test_a_file_replaced_after_landing_is_reported_and_not_loaded_twice(tmp_path, pipeline_env):
    export = tmp_path / "export"
    victim = parquet(export, "customers", [customer("c-1"), customer("c-2")], T1)
    pipeline_env["STIGG_EXPORT_URI"] = str(export)
    assert run_cli(["run"], pipeline_env).returncode == 0
    write_rows([customer("c-1", NAME="changed")], victim)
    os.utime(victim, (1_900_000_000, 1_900_000_000))
    result = run_cli(["run"], pipeline_env)
    assert result.returncode == 0, result.stdout[-3000:]
    relative = victim.relative_to(export).as_posix()
    assert f"{relative} changed after it was landed; not loaded again" in result.stdout
    assert "raw/customers files_unchanged" in result.stdout
    warehouse = pipeline_env["STIGG_WAREHOUSE_PATH"]
    assert query(warehouse, "SELECT count(*) FROM raw.customers") == [(2,)]
    assert customers_row(warehouse, "c-1", "NAME") == [("c-1",)]


# --- reconciliation ---------------------------------------------------------------------------


def test_every_raw_row_is_accounted_for_with_the_numbers(hostile):
    result, warehouse, _ = hostile
    [numbers] = query(warehouse, RECONCILIATION, ["CUSTOMERS"])
    # 13 raw rows: 8 records in the table, c-tie's other version, c-repeat's repeat, 3 rejected.
    assert numbers == (13, 8, 1, 1, 3, 13)
    assert "Reconciliation: 17 of 17 documented tables account for every raw row" in result.stdout


def test_reconciliation_fails_when_a_row_goes_missing(hostile, tmp_path):
    _, warehouse, _ = hostile
    tampered = tmp_path / "tampered.duckdb"
    shutil.copyfile(warehouse, tampered)
    with duckdb.connect(str(tampered)) as con:
        con.execute("""DELETE FROM stigg."CUSTOMERS" WHERE ID = 'c-ok'""")
    [numbers] = query(tampered, RECONCILIATION, ["CUSTOMERS"])
    raw_rows, accounted_rows = numbers[0], numbers[-1]
    assert raw_rows != accounted_rows  # it does not balance
    assert (raw_rows, accounted_rows) == (13, 12)
