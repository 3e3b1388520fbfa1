"""Free disk space: what a DuckDB run needs, checked before it starts, and a full disk named.

A run writes only beside STIGG_WAREHOUSE_PATH, and needs free space there for:
- the working copy: a copy of the published warehouse (none when a failed run left one);
- the new data: about `NEW_DATA_FACTOR` times the new export files' size (raw rows, the rebuilt
  tables, DuckDB's spill files), written into the working copy.
Publishing renames the working copy over the published file and writes nothing; the old file's
space returns once no reader has it open.
A disk that fills anyway (another process, an underestimate) fails the run with a message that
says so and where; the published warehouse is untouched, since nothing writes it but the rename.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import Settings

NEW_DATA_FACTOR = 3
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


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


@dataclass(frozen=True)
class SpaceNeeded:
    directory: Path
    working_copy: int
    new_data: int

    @property
    def total(self) -> int:
        return self.working_copy + self.new_data + HEADROOM_BYTES

    def describe(self) -> str:
        return (
            f"about {_mb(self.total)}: the working copy {_mb(self.working_copy)}, the new data "
            f"{_mb(self.new_data)} ({NEW_DATA_FACTOR}x the new files), and "
            f"{_mb(HEADROOM_BYTES)} of headroom"
        )


def space_needed(settings: Settings, new_input_bytes: int = 0) -> SpaceNeeded:
    published = _size(settings.warehouse_path)
    build = settings.build_path
    working = _size(build) + _size(settings.build_wal_path)
    new_data = NEW_DATA_FACTOR * new_input_bytes
    return SpaceNeeded(
        directory=settings.warehouse_path.parent,
        working_copy=0 if working else published,
        new_data=new_data,
    )


def is_nearly_full(directory: Path) -> bool:
    """Less free space than the headroom a run keeps: an engine's error now is the disk's, whatever
    its words (DuckDB's vary: a failed write, a block it cannot allocate, a spill it cannot make)."""
    return free_bytes(directory) < HEADROOM_BYTES


def free_bytes(directory: Path) -> int:
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def shortfall(settings: Settings, new_input_bytes: int = 0) -> str | None:
    """Why a DuckDB run cannot start for lack of disk space, or None when it can."""
    if settings.engine != "duckdb":
        return None  # Spark writes on its server's storage
    needed = space_needed(settings, new_input_bytes)
    free = free_bytes(needed.directory)
    if free >= needed.total:
        return None
    return (
        f"Not enough free disk space for a run in {needed.directory}: {_mb(free)} free, "
        f"{needed.describe()}. Free some space there, or move STIGG_WAREHOUSE_PATH to a larger "
        "disk. Nothing was changed."
    )


def full_disk_message(directory: Path, error: BaseException, during: str) -> str:
    """What a run that hit a full disk says."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    try:
        usage = shutil.disk_usage(directory)
        space = f" ({_mb(usage.free)} free of {_mb(usage.total)})"
    except OSError:
        space = ""
    return (
        f"The disk is full: {directory}{space} filled up during {during} ({first_line}). The "
        "published warehouse is unchanged. Free some space there and run again: the next run "
        "starts from the published warehouse."
    )
