"""The published warehouse of a benchmark against benchmarks/golden/<preset>-<shape>.json: the
comparison that tests/pipeline/test_golden.py makes for the sample, reused from there."""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

GOLDEN = PROJECT_ROOT / "benchmarks" / "golden"


def compare_with_golden(warehouse: Path, export_name: str, write: bool = False) -> str | None:
    """ "same" when every relation of the published schemas has the golden file's columns, types,
    nullability, row count and row digest (tests/pipeline/test_golden.py, the same comparison for the
    sample); else the relations that differ. `write` (`--write-golden`) writes the golden file
    first. None: no golden file for this export."""
    from tests.pipeline.test_golden import PUBLISHED_SCHEMAS
    from tests.support.warehouse import describe_relations, relation_differences

    path = GOLDEN / f"{export_name}.json"
    if not path.exists() and not write:
        return None
    described = describe_relations(warehouse, PUBLISHED_SCHEMAS)
    if write:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(described, indent=1, sort_keys=True) + "\n")
    differing = relation_differences(json.loads(path.read_text()), described)
    return "same" if not differing else "differs: " + ", ".join(differing)
