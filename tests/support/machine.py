"""The machine: free ports, a tmpfs of a test's own, and the figures a fault test prints."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import FIGURES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def mounted_tmpfs(mount_point: Path, size_mb: int) -> Iterator[Path]:
    """A file system of its own (root only), so that the test sets its size and its `used`
    counts what the pipeline writes there, files still open after deletion included."""
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount_point)], check=True
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def report_figures(test: str, line: str) -> None:
    """Print a test's figures and keep them in FIGURES/<test>.txt, for RELIABILITY.md."""
    print(f"\n{line}")
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{test}.txt").write_text(line + "\n")
