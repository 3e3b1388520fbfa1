"""The docs hold together: every relative link and anchor resolves, the README stays short and
names the test commands, and the configuration table is the variables that orchestration/settings/ reads."""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
VARIABLE = re.compile(r'"((?:STIGG|AWS|DAGSTER)_[A-Z0-9_]+)"')
# Read by boto from the environment, never by the project: documented all the same.
READ_BY_BOTO = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def markdown_files() -> list[Path]:
    found = [*PROJECT_ROOT.glob("*.md"), *(PROJECT_ROOT / "docs").glob("*.md")]
    found += [*(PROJECT_ROOT / "orchestration").rglob("README.md")]
    return sorted(found)


def slug(heading: str) -> str:
    """A heading's anchor as GitHub writes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(h) for h in HEADING.findall(text)}


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for path in markdown_files():
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{path.relative_to(PROJECT_ROOT)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.relative_to(PROJECT_ROOT)}: {target} (no such heading)")
    assert broken == []
    assert len(markdown_files()) >= 12


def test_the_readme_is_short_and_names_every_tier_command():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("\n") <= 210
    for command in ("uv run stigg-warehouse run", "uv run pytest", "uv run pytest --tier fast",
                    "uv run pytest --tier ci", "uv run pytest --tier soak"):  # fmt: skip
        assert f"`{command}`" in readme or f"&& {command}\n" in readme, command
    assert "uv run pytest --tier ci" in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_configuration_table_is_the_variables_that_settings_reads():
    read = {
        variable
        for module in (PROJECT_ROOT / "orchestration" / "settings").glob("*.py")
        for variable in VARIABLE.findall(module.read_text())
    }
    table = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set()
    for row in re.findall(r"^\| (`[A-Z].*?) \|", table, flags=re.M):
        documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row))
    assert len(read) >= 25
    assert sorted(read - documented) == [], (
        "read by orchestration/settings/, missing from the table"
    )
    assert sorted(documented - read - READ_BY_BOTO) == [], "in the table, read nowhere"
