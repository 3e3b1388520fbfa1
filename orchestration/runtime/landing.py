"""Which export files land, and what happens to one that cannot: the manifest's rules.

- A file lands once, in its current version (`ExportFile.version`). A file that the manifest
  has landed and that changed since is recorded as `changed` (once per version) and not loaded
  again.
- All new files of a model in one format land in one batch. If the batch fails, each file is
  retried alone, so one bad file is named, recorded as `failed` with the reason, and does not
  hold the others back. A failed file is retried by the next run.
The engine (runtime/engines/) does the reading and writing; this module decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from orchestration.runtime.disk_space import DiskFullError, is_disk_full
from orchestration.runtime.sources.export import ExportFile

# The statuses that settle a file: it is not new to a run. A failed file is retried.
SETTLED_STATUSES = ("landed", "changed")
CHANGED_REASON = "file changed after it was landed; its new content was not loaded"


class RawLayer(Protocol):
    """What landing needs of an engine's raw layer (engines/duckdb.py, engines/spark.py)."""

    landing_errors: tuple[type[BaseException], ...]  # what a failed read or write raises

    def ensure_schema(self, models: Sequence[str]) -> None: ...

    def lands_together(self, fmt: str) -> bool: ...

    def check_visible(self, f: ExportFile) -> None: ...

    def recorded(
        self, statuses: Sequence[str], model: str | None = None
    ) -> set[tuple[str, str]]: ...

    def record(
        self,
        model: str,
        files: Sequence[ExportFile],
        load_id: str,
        *,
        status: str,
        rows: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None: ...

    def land_batch(
        self, model: str, batch: Sequence[ExportFile], load_id: str
    ) -> dict[str, int]: ...

    def failure_reason(self, error: BaseException, failed: ExportFile) -> str: ...

    def table_summary(self, model: str) -> tuple[int, datetime | None]: ...

    def disk_is_full(self) -> bool: ...


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str


@dataclass
class ModelLanding:
    """What one landing of one model did."""

    model: str
    files_landed: list[str] = field(default_factory=list)
    rows_landed: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    already_landed: int = 0


def land_model(
    raw: RawLayer, model: str, files: Sequence[ExportFile], load_id: str
) -> ModelLanding:
    """Land every file of `model` that the manifest has not recorded as landed."""
    result = ModelLanding(model)
    landed = dict(raw.recorded(["landed"], model))
    new_files: list[ExportFile] = []
    for f in files:
        if f.path not in landed:
            new_files.append(f)
        elif landed[f.path] != f.version:
            result.changed.append(f.path)
            if (f.path, f.version) not in raw.recorded(["changed"], model):
                raw.record(model, [f], load_id, status="changed", error=CHANGED_REASON)
        else:
            result.already_landed += 1

    by_format: dict[str, list[ExportFile]] = {}
    for f in new_files:
        by_format.setdefault(f.format, []).append(f)
    for fmt, batch in by_format.items():
        batches = [batch] if raw.lands_together(fmt) else [[f] for f in batch]
        for files_together in batches:
            _land_or_split(raw, model, files_together, load_id, result)
    return result


def unrecorded_files(
    raw: RawLayer, files: Sequence[ExportFile], statuses: Sequence[str] = SETTLED_STATUSES
) -> list[ExportFile]:
    """The files whose current version the manifest has not recorded with one of `statuses`."""
    recorded = raw.recorded(statuses)
    return [f for f in files if (f.path, f.version) not in recorded]


def _land_or_split(
    raw: RawLayer,
    model: str,
    batch: Sequence[ExportFile],
    load_id: str,
    result: ModelLanding,
) -> None:
    """Land the batch whole; if it fails, land each file alone, so a bad file is found and named."""
    try:
        rows = raw.land_batch(model, batch, load_id)
    except raw.landing_errors as exc:
        if is_disk_full(exc) or raw.disk_is_full():
            # The disk, not the file: the run fails (defs/landing.py), no file is blamed.
            raise DiskFullError(str(exc)) from exc
        if len(batch) > 1:
            for f in batch:
                _land_or_split(raw, model, [f], load_id, result)
            return
        reason = raw.failure_reason(exc, batch[0])
        raw.record(model, batch, load_id, status="failed", error=reason)
        result.failed.append(FailedFile(batch[0].path, reason))
        return
    result.files_landed.extend(f.path for f in batch)
    result.rows_landed += sum(rows.values())
