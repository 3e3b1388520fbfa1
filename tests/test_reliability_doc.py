"""RELIABILITY.md lists exactly the bad-input cases that the suite runs, with their count."""

import re

from orchestration.settings import PROJECT_ROOT


def test_reliability_md_matches_the_bad_input_suite():
    suite = (PROJECT_ROOT / "tests" / "test_bad_input.py").read_text()
    cases = re.findall(r"^def (test_\w+)\(", suite, flags=re.M)
    doc = (PROJECT_ROOT / "RELIABILITY.md").read_text()
    documented = re.findall(r"^\| `(test_\w+)` \|", doc, flags=re.M)
    assert documented == cases
    assert len(cases) >= 25
    assert f"| bad-input cases tried | {len(cases)} |" in doc
