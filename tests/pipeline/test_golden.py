"""The published warehouse of the bundled sample, relation by relation, against a description
kept in git: the same relations, columns, types, nullability and rows (tests/pipeline/golden/).

A change that alters what the warehouse holds shows up here as a diff of that file. When the
change is intended, write the file again from a fresh run and review its diff:

    uv run python -m tests.pipeline.test_golden <path to the run's stigg_warehouse.duckdb>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.warehouse import describe_relations, relation_differences

GOLDEN = Path(__file__).parent / "golden" / "sample_warehouse.json"
# What analysts read. Staging views and the meta schema are the pipeline's own workings.
PUBLISHED_SCHEMAS = ("raw", "stigg", "rejects", "analytics")


@pytest.mark.slow
def test_the_sample_warehouse_equals_its_golden_description(sample_warehouse):
    path, _ = sample_warehouse
    expected = json.loads(GOLDEN.read_text())
    assert relation_differences(expected, describe_relations(path, PUBLISHED_SCHEMAS)) == {}


def test_the_golden_description_keeps_not_null_on_every_documented_table():
    """The golden file itself: each documented table is a table whose NOT NULL columns are the
    doc's mandatory ones, USAGE_EVENTS_<ENV> included; only the all-environments USAGE_EVENTS
    (ours, not the doc's) is a view."""
    from orchestration.spec.tables import TABLES, USAGE_EVENTS

    golden = json.loads(GOLDEN.read_text())
    views = {relation for relation, described in golden.items() if described["kind"] == "view"}
    assert views == {"stigg.USAGE_EVENTS"}
    per_environment = [r for r in golden if r.startswith("stigg.USAGE_EVENTS_")]
    assert per_environment
    for table in TABLES:
        relations = per_environment if table is USAGE_EVENTS else [f"stigg.{table.name}"]
        mandatory = {c.name for c in table.columns if c.mandatory}
        for relation in relations:
            columns = golden[relation]["columns"]
            assert [name for name, _, _ in columns] == list(table.column_names), relation
            assert {name for name, _, nullable in columns if not nullable} == mandatory, relation


def write_golden(warehouse: Path) -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    described = describe_relations(warehouse, PUBLISHED_SCHEMAS)
    GOLDEN.write_text(json.dumps(described, indent=1, sort_keys=True) + "\n")
    print(f"{len(described)} relations written to {GOLDEN}")


if __name__ == "__main__":
    write_golden(Path(sys.argv[1]))
