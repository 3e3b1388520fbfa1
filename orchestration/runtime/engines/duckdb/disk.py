"""Free disk space: what a DuckDB run needs, checked before it starts.

A run writes only beside STIGG_WAREHOUSE_PATH, and needs free space there for:
- the working copy: a copy of the published warehouse (none when a failed run left one);
- the new data: about `NEW_DATA_FACTOR` times the new export files' size (raw rows, the rebuilt
  tables, DuckDB's spill files), written into the working copy.
Publishing renames the working copy over the published file and writes nothing; the old file's
space returns once no reader has it open.
A disk that fills anyway (another process, an underestimate) fails the run with a message that
says so and where (runtime/disk_space.py); the published warehouse is untouched, since nothing
writes it but the rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestration.runtime.disk_space import HEADROOM_BYTES, free_bytes, megabytes
from orchestration.settings import Settings

NEW_DATA_FACTOR = 3


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


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
            f"about {megabytes(self.total)}: the working copy {megabytes(self.working_copy)}, the new data "
            f"{megabytes(self.new_data)} ({NEW_DATA_FACTOR}x the new files), and "
            f"{megabytes(HEADROOM_BYTES)} of headroom"
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


def shortfall(settings: Settings, new_input_bytes: int = 0) -> str | None:
    """Why a DuckDB run cannot start for lack of disk space, or None when it can."""
    needed = space_needed(settings, new_input_bytes)
    free = free_bytes(needed.directory)
    if free >= needed.total:
        return None
    return (
        f"Not enough free disk space for a run in {needed.directory}: {megabytes(free)} free, "
        f"{needed.describe()}. Free some space there, or move STIGG_WAREHOUSE_PATH to a larger "
        "disk. Nothing was changed."
    )
