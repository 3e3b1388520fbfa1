"""The suite's tiers: which tier a test belongs to, which tiers a run holds, and the lock that
lets a test have the machine to itself while the other worker waits."""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TIERS = ("fast", "default", "ci", "soak")
DESCRIPTIONS = {
    "fast": "no pipeline run and no server: the spec, codegen, pure functions",
    "default": "every capability once, end to end",
    "ci": "everything but the soak",
    "soak": "everything: the long haul, the full kill series, the Spark kill",
}
COMMANDS = {tier: f"uv run pytest --tier {tier}" for tier in TIERS} | {"default": "uv run pytest"}


def tier_of(item: pytest.Item) -> str:
    """A test's tier, from its marks."""
    return tier_of_marks({mark.name for mark in item.iter_markers()})


def is_alone(item: pytest.Item) -> bool:
    """Whether a test must have the machine to itself (the `alone` mark)."""
    return item.get_closest_marker("alone") is not None


def tier_of_marks(marks: set[str]) -> str:
    """`soak`, `ci`, `slow` (the default tier), or none of them (fast)."""
    for tier in ("soak", "ci"):
        if tier in marks:
            return tier
    return "default" if "slow" in marks else "fast"


# The order modules start in (xdist hands them out in collection order, since pyproject.toml
# turns off its reordering by test count): the longest modules first, by their times in the
# JUnit XML, so that the two workers end together; then the other modules, by folder.
LONGEST_MODULES = (
    "engines/test_spark.py",
    "faults/test_long_haul.py",
    "faults/test_kill.py",
    "api/test_api_pipeline.py",
    "pipeline/test_automation.py",
    "ui/test_ui.py",
)
START_ORDER = ("engines", "ui", "faults", "api", "pipeline", "unit")


def start_order(item: pytest.Item) -> tuple[int, int]:
    module = f"{item.path.parent.name}/{item.path.name}"
    if module in LONGEST_MODULES:
        return (0, LONGEST_MODULES.index(module))
    folder = item.path.parent.name
    return (1, START_ORDER.index(folder) if folder in START_ORDER else len(START_ORDER))


def runs_in(test_tier: str, chosen: str) -> bool:
    """Whether a run of tier `chosen` runs a test of `test_tier`: each tier holds those below."""
    return TIERS.index(test_tier) <= TIERS.index(chosen)


def closing_line(chosen: str, seed: int) -> str:
    others = "; ".join(f"{tier}: {COMMANDS[tier]}" for tier in TIERS if tier != chosen)
    return f"Tier {chosen} ran ({DESCRIPTIONS[chosen]}; seed {seed}). The other tiers: {others}."


@contextlib.contextmanager
def machine_share(config: pytest.Config, alone: bool) -> Iterator[None]:
    """Under pytest-xdist: every test holds a shared lock on the machine while it runs, and a
    test that must be alone (a timing, a tmpfs, a disk high-water mark) an exclusive one. A
    turnstile keeps the other worker from starving it: a test passes the turnstile before it
    takes its share, and the one that waits to be alone holds the turnstile meanwhile."""
    worker = getattr(config, "workerinput", None)
    if worker is None or worker.get("workercount", 1) < 2:
        yield
        return
    folder = Path(tempfile.gettempdir()) / f"stigg-tests-{worker['testrunuid']}"
    folder.mkdir(exist_ok=True)
    with (folder / "turnstile").open("a") as turnstile, (folder / "machine").open("a") as machine:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(machine, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(machine, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
