"""RELIABILITY.md lists exactly the bad-input cases that the suite runs, with their count, and
the fault suites' figures as the tests define them."""

import re
from collections import Counter

from orchestration.settings import PROJECT_ROOT


def test_reliability_md_matches_the_bad_input_suite():
    suite = (PROJECT_ROOT / "tests" / "test_bad_input.py").read_text()
    cases = re.findall(r"^def (test_\w+)\(", suite, flags=re.M)
    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    documented = re.findall(r"^\| `(test_\w+)` \|", doc, flags=re.M)
    assert documented == cases
    assert len(cases) >= 25
    assert f"| bad-input cases tried | {len(cases)} |" in doc


def test_reliability_md_figures_match_the_fault_suites():
    from tests import test_kill, test_long_haul, test_readers_under_load, test_s3_faults

    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    assert f"| SIGKILLs survived (`tests/test_kill.py`) | {test_kill.KILLS}:" in doc
    mended = Counter(fault.kind for fault in test_s3_faults.MENDED_FAULTS)
    labels = {"503": "\N{MULTIPLICATION SIGN} 503 SlowDown", "500": "\N{MULTIPLICATION SIGN} 500", "reset": "resets mid-body",
              "stall": "stall", "truncate": "truncated listing"}  # fmt: skip
    breakdown = ", ".join(f"{count} {labels[kind]}" for kind, count in mended.items())
    assert (
        f"| S3 faults mended by the retries (`tests/test_s3_faults.py`) | "
        f"{mended.total()}: {breakdown} |"
    ) in doc
    readers = test_readers_under_load
    assert re.search(
        rf"\| reader queries served \(`tests/test_readers_under_load.py`\) \| [\d,]+ \([\d,]+ "
        rf"reads of {len(readers.QUERIES)} queries by {readers.READERS} readers over "
        rf"{readers.TRANSFERS - 1} publishing runs\)",
        doc,
    )
    assert re.search(
        rf"\| long-haul transfers \(`tests/test_long_haul.py`\) \| {test_long_haul.TRANSFERS} "
        rf"transfers, \d+ runs, {test_long_haul.KILLS} kills",
        doc,
    )
