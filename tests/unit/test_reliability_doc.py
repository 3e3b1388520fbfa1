"""RELIABILITY.md lists exactly the bad-input cases that the suite runs, with their count, the
fault suites' figures as the tests define them, and the tier that proves each guarantee."""

import importlib
import re
from collections import Counter

from orchestration.settings import PROJECT_ROOT
from tests.support import tiers


def test_reliability_md_matches_the_bad_input_suite():
    suite = (PROJECT_ROOT / "tests" / "pipeline" / "test_bad_input.py").read_text()
    cases = re.findall(r"^def (test_\w+)\(", suite, flags=re.M)
    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    documented = re.findall(r"^\| `(test_\w+)` \|", doc, flags=re.M)
    assert documented == cases
    assert len(cases) >= 25
    assert f"| bad-input cases tried | {len(cases)} |" in doc


def test_reliability_md_figures_match_the_fault_suites():
    from tests.faults import test_kill, test_long_haul, test_readers_under_load, test_s3_faults

    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    assert f"| SIGKILLs survived (`tests/faults/test_kill.py`) | {test_kill.KILLS}:" in doc
    mended = Counter(fault.kind for fault in test_s3_faults.MENDED_FAULTS)
    labels = {"503": "\N{MULTIPLICATION SIGN} 503 SlowDown", "500": "\N{MULTIPLICATION SIGN} 500", "reset": "resets mid-body",
              "stall": "stall", "truncate": "truncated listing"}  # fmt: skip
    breakdown = ", ".join(f"{count} {labels[kind]}" for kind, count in mended.items())
    assert (
        f"| S3 faults mended by the retries (`tests/faults/test_s3_faults.py`) | "
        f"{mended.total()}: {breakdown} |"
    ) in doc
    readers = test_readers_under_load
    assert re.search(
        rf"\| reader queries served \(`tests/faults/test_readers_under_load.py`\) \| [\d,]+ \([\d,]+ "
        rf"reads of {len(readers.QUERIES)} queries by {readers.READERS} readers over "
        rf"{readers.TRANSFERS - 1} publishing runs\)",
        doc,
    )
    assert re.search(
        rf"\| long-haul transfers \(`tests/faults/test_long_haul.py`\) \| {test_long_haul.TRANSFERS} "
        rf"transfers, \d+ runs, {test_long_haul.KILLS} kills",
        doc,
    )


TIER_ROW = re.compile(
    r"^\| .+ \| `(tests/[\w/]+\.py)(?:::(\w+))?` \| (fast|default|ci|soak) \|$", re.M
)
# Every test of these is a guarantee that the table must place in a tier.
GUARANTEES = ("faults/test_*.py", "engines/test_*.py", "ui/test_*.py", "api/test_api_pipeline.py")


def _tests_of(path: str) -> dict[str, str]:
    """Each test function of a test module, with its tier as its marks give it."""
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    module_marks = getattr(module, "pytestmark", [])
    module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
    return {
        name: tiers.tier_of_marks(
            {m.name for m in [*module_marks, *getattr(test, "pytestmark", [])]}
        )
        for name, test in vars(module).items()
        if name.startswith("test_") and callable(test)
    }


def test_reliability_md_names_the_tier_that_proves_each_guarantee():
    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    rows = TIER_ROW.findall(doc)
    assert len(rows) >= 20
    named: set[tuple[str, str]] = set()
    for path, test, tier in rows:
        found = _tests_of(path)
        if test:
            assert test in found, f"{path}::{test} is not a test"
            assert found[test] == tier, f"{path}::{test} runs in the {found[test]} tier, not {tier}"
            named.add((path, test))
        else:
            assert set(found.values()) == {tier}, f"{path}: tiers {sorted(set(found.values()))}"
            named |= {(path, name) for name in found}
    for pattern in GUARANTEES:
        for module in sorted((PROJECT_ROOT / "tests").glob(pattern)):
            path = module.relative_to(PROJECT_ROOT).as_posix()
            unnamed = [name for name in _tests_of(path) if (path, name) not in named]
            assert unnamed == [], f"RELIABILITY.md names no tier for {path}: {unnamed}"
