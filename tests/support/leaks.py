"""Where a secret might have leaked: the files under a folder that hold it."""

from __future__ import annotations

import contextlib
from pathlib import Path


def files_containing(root: Path, secret: bytes) -> list[str]:
    """The files under `root` that hold `secret` (a file removed while the walk runs, as
    another test's run prunes its dbt folders, is skipped)."""
    found = []
    for path in root.rglob("*"):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            if path.is_file() and secret in path.read_bytes():
                found.append(str(path))
    return found
