"""The DuckDB warehouse: connections, the working copy that runs build into, and publishing.

A run writes only the working copy (`Settings.build_path`). Publishing copies it, closed and
checkpointed, to a temporary file beside the published one and renames it into place, so an
analyst's open read-only connection keeps the old file and never blocks or sees a half-built run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import Settings

MANIFEST_TABLE = "meta.landed_files"


def connect(
    path: Path | str, *, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the session settings every writer and reader here relies on."""
    config = {"autoinstall_known_extensions": "false"}  # no network: never download extensions
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    con.execute("SET TimeZone = 'UTC'")  # after connect: it needs the bundled icu extension loaded
    return con


def quote_identifier(name: str) -> str:
    """A DuckDB identifier that is always quoted, whatever the name holds."""
    return '"' + name.replace('"', '""') + '"'


def prepare_build_copy(settings: Settings, *, from_scratch: bool = False) -> Path:
    """The working copy for a run; started from the published warehouse if there is none.

    `from_scratch` (a full refresh) starts from an empty file: every export file lands again.
    """
    build = settings.build_path
    build.parent.mkdir(parents=True, exist_ok=True)
    if from_scratch:
        for stale in (build, build.with_name(build.name + ".wal")):
            stale.unlink(missing_ok=True)
        return build
    if not build.exists() and settings.warehouse_path.exists():
        tmp = build.with_name(build.name + f".tmp-{os.getpid()}")
        shutil.copyfile(settings.warehouse_path, tmp)
        os.replace(tmp, build)
    return build


def wait_until_free(
    path: Path, on_wait: Callable[[str], None], timeout_seconds: float = 6 * 3600
) -> None:
    """Wait while another process (a dbt left running by a killed run) still has `path` open."""
    deadline = time.monotonic() + timeout_seconds
    waiting = False
    while path.exists():
        try:
            connect(path).close()
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            if not waiting:
                on_wait(str(exc))
                waiting = True
            time.sleep(1)


@dataclass(frozen=True)
class PublishResult:
    path: Path
    size_bytes: int
    seconds: float


def publish(settings: Settings) -> PublishResult:
    """Atomically replace the published warehouse with the working copy."""
    started = time.monotonic()
    build = settings.build_path
    with connect(build) as con:
        con.execute("CHECKPOINT")
    target = settings.warehouse_path
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.publish-*"):
        leftover.unlink()  # a copy that a killed run left half-written; we hold the writer lock
    tmp = target.with_name(f".{target.name}.publish-{os.getpid()}")
    try:
        shutil.copyfile(build, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(target.parent)
    return PublishResult(target, target.stat().st_size, time.monotonic() - started)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
