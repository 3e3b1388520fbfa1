"""The spec agrees with Stigg's schema doc, and the dbt files rendered from it are current."""

from __future__ import annotations

import re

import pytest
import yaml

from orchestration.spec import dbt_files
from orchestration.spec.tables import (
    FOREIGN_KEYS_HOLD,
    TABLES,
    TABLES_BY_NAME,
    file_environment,
    model_for_folder,
    reference_target,
)
from tests.support.paths import SHARED_DIR

DOC = SHARED_DIR / "stigg-docs" / "warehouse-schema.txt"


def _doc_tables() -> dict[str, list[tuple[str, str, bool, str]]]:
    """Parse the doc's pipe tables: {TABLE: [(column, type, mandatory, description)]}."""
    text = DOC.read_text(encoding="utf-8").replace("\u03b2s", "'s")
    lines = text.splitlines()
    tables = {}
    for i, line in enumerate(lines):
        match = re.match(r"Table: (\S+)", line)
        if not match:
            continue
        rows, j = [], i + 3
        while j < len(lines) and "|" in lines[j]:
            cells = [c.strip() for c in lines[j].split("|")]
            if cells[0] == "VARCHAR" and cells[1] == "Email address":
                cells = ["EMAIL", "VARCHAR", "Email address", ""]  # the doc lost this name
            mandatory = cells[2] == "Yes"
            rows.append((cells[0], cells[1], mandatory, cells[3] if mandatory else cells[2]))
            j += 1
        name = "USAGE_EVENTS" if match.group(1).startswith("USAGE_EVENTS_") else match.group(1)
        tables[name] = rows
    return tables


@pytest.fixture(scope="module")
def doc_tables():
    if not DOC.exists():
        pytest.skip(f"Stigg's schema doc is not at {DOC}")
    return _doc_tables()


def test_spec_has_the_docs_17_tables_in_order(doc_tables):
    assert list(doc_tables) == [t.name for t in TABLES]
    assert len(TABLES) == 17


def test_spec_columns_types_mandatory_and_descriptions_match_the_doc(doc_tables):
    for table in TABLES:
        spec_rows = [(c.name, c.doc_type, c.mandatory, c.description) for c in table.columns]
        assert spec_rows == doc_tables[table.name], table.name


def test_spec_enums_are_the_docs_enums(doc_tables):
    enums = {(t.name, c.name): c.enum for t in TABLES for c in t.columns if c.enum}
    assert len(enums) == 23
    for (table, column), values in enums.items():
        description = TABLES_BY_NAME[table].column(column).description
        assert description.startswith("Enum")
        for value in values:
            assert re.search(rf"(?<![A-Za-z_]){re.escape(value)}(?![A-Za-z_])", description), (
                table,
                column,
                value,
            )
    assert enums[("SUBSCRIPTIONS", "STATUS")] == (
        "PAYMENT_PENDING", "ACTIVE", "EXPIRED", "IN_TRIAL", "CANCELED", "NOT_STARTED",
    )  # fmt: skip
    assert enums[("SUBSCRIPTIONS", "PAYMENT_COLLECTION")] == (
        "NOT_REQUIRED", "PROCESSING", "FAILED", "ACTION_REQUIRED",
    )  # fmt: skip


def test_every_column_without_enum_has_no_enum_wording():
    for table in TABLES:
        for column in table.columns:
            assert bool(column.enum) == column.description.startswith("Enum"), (
                table.name,
                column.name,
            )


def test_keys_and_references_resolve():
    assert TABLES_BY_NAME["CUSTOMER_RESOURCES"].key == (
        "ENVIRONMENT_ID",
        "CUSTOMER_ID",
        "RESOURCE_ID",
    )
    assert all(t.key == ("ID",) for t in TABLES if t.name != "CUSTOMER_RESOURCES")
    assert FOREIGN_KEYS_HOLD == "identifier"
    subscriptions = TABLES_BY_NAME["SUBSCRIPTIONS"]
    assert reference_target(subscriptions, "CUSTOMER_ID")[1] == "CUSTOMER_ID"
    entitlements = TABLES_BY_NAME["ENTITLEMENTS"]
    assert reference_target(entitlements, "CUSTOMER_UUID") == (TABLES_BY_NAME["CUSTOMERS"], "ID")
    for table in TABLES:
        for column in table.references:
            parent, parent_column = reference_target(table, column)
            assert column in table.column_names
            assert parent_column in parent.column_names


def test_whole_number_and_decimal_types_are_the_dbt_projects():
    customers = TABLES_BY_NAME["CUSTOMERS"]
    assert customers.warehouse_type(customers.column("DEFAULT_PAYMENT_EXPIRATION_YEAR")) == "BIGINT"
    prices = TABLES_BY_NAME["PRICES"]
    assert prices.warehouse_type(prices.column("PRICE_AMOUNT")) == "DECIMAL(38,10)"
    assert prices.warehouse_type(prices.column("CREATED_AT")) == "TIMESTAMP WITH TIME ZONE"


def test_folders_map_to_models():
    assert model_for_folder("customers") == "customers"
    assert model_for_folder("CUSTOMERS") == "customers"
    assert model_for_folder("usage_events") == "usage_events"
    assert model_for_folder("usage_events_4f1c-aa") == "usage_events"
    assert model_for_folder("usage_events_") is None
    assert model_for_folder("invoices") is None


def test_a_split_tables_folder_names_its_environment():
    assert file_environment("Usage_Events_Env-A/dt=2025-01-01/part.csv") == "Env-A"
    assert file_environment("usage_events/dt=2025-01-01/part.csv") is None
    assert file_environment("customers/dt=2025-01-01/part.csv") is None
    assert file_environment("invoices_x/part.csv") is None


def test_the_split_tables_are_the_ones_the_doc_names_per_value(doc_tables):
    """The doc names a split table `<TABLE>_<COLUMN>` (USAGE_EVENTS_<ENVIRONMENT_ID>)."""
    named = dict(re.findall(r"^Table: (\w+?)_<(\w+)>", DOC.read_text(encoding="utf-8"), re.M))
    assert {t.name: t.split_by for t in TABLES if t.split_by} == named
    for table in TABLES:
        assert table.split_by is None or table.split_by in table.column_names


def test_rendered_dbt_files_are_current():
    assert dbt_files.stale_files() == [], "run `uv run stigg-warehouse codegen`"


def test_contract_has_not_null_for_every_mandatory_column():
    models = {
        t.name: yaml.safe_load(dbt_files.documented_table_yml(t))["models"][0] for t in TABLES
    }
    for table in TABLES:
        columns = {c["name"]: c for c in models[table.name]["columns"]}
        for column in table.columns:
            has_constraint = {"type": "not_null"} in columns[column.name].get("constraints", [])
            assert has_constraint == column.mandatory, (table.name, column.name)
