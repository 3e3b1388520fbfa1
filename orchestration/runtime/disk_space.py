"""A full disk, told and named: whatever an engine's error says, and how a run reports it. What
a run needs before it starts is the engine's (engines/duckdb/disk.py)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

HEADROOM_BYTES = 16 * 1024 * 1024  # DuckDB's checkpoint and WAL, dbt's temporary tables
_FULL_MARKERS = ("no space left on device", "disk is full", "disk full", "enospc")


class DiskFullError(OSError):
    """The warehouse's disk filled up during a run (or would, before it starts)."""


def is_disk_full(error: BaseException) -> bool:
    if isinstance(error, DiskFullError):
        return True
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    return says_disk_full(str(error))


def says_disk_full(message: str) -> bool:
    """Whether an error's words are a full disk's (dbt's messages come as text)."""
    return any(marker in message.lower() for marker in _FULL_MARKERS)


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def is_nearly_full(directory: Path) -> bool:
    """Less free space than the headroom a run keeps: an engine's error now is the disk's, whatever
    its words (DuckDB's vary: a failed write, a block it cannot allocate, a spill it cannot make)."""
    return free_bytes(directory) < HEADROOM_BYTES


def free_bytes(directory: Path) -> int:
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def full_disk_message(directory: Path, error: BaseException, during: str) -> str:
    """What a run that hit a full disk says."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    try:
        usage = shutil.disk_usage(directory)
        space = f" ({megabytes(usage.free)} free of {megabytes(usage.total)})"
    except OSError:
        space = ""
    return (
        f"The disk is full: {directory}{space} filled up during {during} ({first_line}). The "
        "published warehouse is unchanged. Free some space there and run again: the next run "
        "starts from the published warehouse."
    )
