"""Nothing new, nothing done: when a run has nothing to build, and what a build was made from.

A build's input is the dbt project's files and the export files the manifest has recorded. After
dbt succeeds, the run records the fingerprint of that input beside the build (`meta.build_state`
on either engine), and publishing makes it the published one. The rule, used by the CLI before
it starts a run and by the dbt asset after landing:

    a warehouse has nothing to build when the fingerprint of its input equals the one it
    recorded, and the published warehouse recorded that same fingerprint.

The second half matters: a run killed after dbt but before publishing leaves a build that is not
published; the next run must build (and so publish) it. Each engine reads the recorded
fingerprints its own way (engines/*/); the fingerprint is computed here, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

BUILD_STATE_TABLE = "meta.build_state"
# The manifest's columns that a build's input is: which files, in which version, in which state.
MANIFEST_INPUT_COLUMNS = ("path", "fingerprint", "status")


def dbt_project_files() -> list[Path]:
    """Every file a dbt build reads from the repository."""
    return [
        PROJECT_ROOT / "profiles.yml",
        DBT_PROJECT_DIR / "dbt_project.yml",
        *(
            p
            for d in ("models", "macros", "tests")
            for p in (DBT_PROJECT_DIR / d).rglob("*")
            if p.is_file()
        ),
    ]


def fingerprint_of(recorded_files: Iterable[tuple[str, str | None, str]]) -> str:
    """The fingerprint of a build's input: the dbt project's files, and the manifest's distinct
    (path, fingerprint, status) rows, which the engine reads."""
    digest = hashlib.sha256()
    for path in sorted(dbt_project_files()):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    for path, version, status in sorted({(p, v or "", s) for p, v, s in recorded_files}):
        digest.update(f"{path}\0{version}\0{status}\n".encode())
    return digest.hexdigest()
