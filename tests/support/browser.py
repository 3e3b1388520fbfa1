"""Debian's Chromium, for the tests that look at pages as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]  # fmt: skip


def debian_chromium() -> str:
    """Debian's chromium (Playwright cannot download its own browser here); installed if missing."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing and could not be installed (apt-get install chromium)"
        )
    return found
