"""The DuckDB engine, as runs and readers call it (engines/base.py). A run builds the working copy
and publishes it by renaming it over the published file (files.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb

from orchestration.runtime import dbt_build, disk_space
from orchestration.runtime.engines.base import BuildInput, Report
from orchestration.runtime.engines.duckdb import build_state, disk, files
from orchestration.runtime.landing import RawLayer, unrecorded_files
from orchestration.runtime.sources.export import ExportFile, ExportSource
from orchestration.runtime.waiting import wait_while
from orchestration.settings import Settings


class DuckDBEngine:
    name = "duckdb"
    dbt_target = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def for_reading(cls, settings: Settings) -> DuckDBEngine:
        return cls(settings)

    def describe(self) -> str:
        return str(self.settings.warehouse_path)

    def run_notes(self) -> list[str]:
        return []

    def disk_shortfall(
        self, export_files: Sequence[ExportFile] | None, *, full_refresh: bool
    ) -> str | None:
        """Room for the working copy and the files a run will land (every one for a full
        refresh), beside the warehouse (disk.py)."""
        new = export_files or []
        if new and not full_refresh:
            new = self.unpublished_files(new, ("landed",))
        return disk.shortfall(self.settings, sum(f.size for f in new))

    def nothing_new(self, export_files: Sequence[ExportFile]) -> bool:
        settings = self.settings
        return build_state.nothing_new(settings.warehouse_path, settings.build_path, export_files)

    @contextlib.contextmanager
    def working_copy(
        self, *, from_scratch: bool, from_published: bool, report: Report, log: Report
    ) -> Iterator[None]:
        """Wait while another process has the working copy open, check the disk, and make the
        copy (from scratch for a full refresh; from the published file for a source whose run is
        redone, never resumed)."""
        settings = self.settings
        wait_while(_working_copy_holder(settings), report)
        if (short := disk.shortfall(settings)) is not None:
            raise disk_space.DiskFullError(short)
        try:
            files.prepare_build_copy(
                settings, from_scratch=from_scratch, from_published=from_published
            )
        except OSError as exc:
            if not disk_space.is_disk_full(exc):
                raise
            files.discard_working_copy(settings)
            raise disk_space.DiskFullError(
                disk_space.full_disk_message(
                    settings.warehouse_path.parent, exc, "the working copy's copy"
                ),
            ) from None
        yield

    @contextlib.contextmanager
    def raw_layer(self, source: ExportSource) -> Iterator[RawLayer]:
        settings = self.settings
        with files.connect(settings.build_path, memory_limit=settings.duckdb_memory_limit) as con:
            if source.is_remote:
                con.register_filesystem(source.fs)
            yield files.DuckDBRaw(con, settings.build_path)

    def build_input(self) -> BuildInput:
        with files.connect(self.settings.build_path, read_only=True) as con:
            unchanged, fingerprint = build_state.is_published_build(
                con, self.settings.warehouse_path
            )
            return BuildInput(unchanged, fingerprint, files.largest_raw_table_rows(con))

    def dbt_vars(self) -> dict[str, str]:
        return dbt_build.dbt_vars(self.settings)

    def record_build(self, fingerprint: str) -> None:
        with files.connect(self.settings.build_path) as con:
            build_state.record_fingerprint(con, fingerprint)

    def publish(self, run_id: str) -> dict[str, Any]:
        result = files.publish(self.settings)
        return {
            "path": str(result.path),
            "size_bytes": result.size_bytes,
            "publish_seconds": round(result.seconds, 3),
        }

    def discard_working_copy(self) -> None:
        files.discard_working_copy(self.settings)

    def unpublished_files(
        self, export_files: Sequence[ExportFile], statuses: Sequence[str]
    ) -> list[ExportFile]:
        if not self.settings.warehouse_path.exists():
            return list(export_files)
        with files.connect(self.settings.warehouse_path, read_only=True) as con:
            return unrecorded_files(files.DuckDBRaw(con), export_files, statuses=statuses)

    @contextlib.contextmanager
    def published_tables(self, names: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.settings.warehouse_path
        if not path.exists():
            raise FileNotFoundError(
                f"No published warehouse at {path}: run `stigg-warehouse run` first"
            )
        with files.connect(path, read_only=True) as con:
            yield con

    def close(self) -> None:
        pass


def _working_copy_holder(settings: Settings) -> Callable[[], str | None]:
    """Why to wait: another process (one no run recorded, too) has the working copy open."""

    def holder() -> str | None:
        reason = files.file_lock_holder(settings.build_path)
        return (
            None if reason is None else f"a process that still has the working copy open: {reason}"
        )

    return holder
