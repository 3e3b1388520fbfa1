"""Which export files land, and what happens to one that cannot: the manifest's rules.

- A file lands once, in its current version (`ExportFile.version`). A file that the manifest
  has landed and that changed since is recorded as `changed` (once per version) and not loaded
  again.
- A CSV or NDJSON file is read here first (sources/text_files.py): one that neither engine
  should read fails with the same reason on both; one with no columns lands as 0 rows; the
  others carry their layout to the engine, which reads them with the options set there. An
  empty (0-byte) Parquet file fails without a read.
- All new files of a model in one format (and, for text, one layout) land in one batch. If the
  batch fails, each file is retried alone, so one bad file is named, recorded as `failed` with
  the reason, and does not hold the others back. A failed file is retried by the next run.
The engine (runtime/engines/) does the reading and writing; this module decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

from orchestration.runtime.disk_space import DiskFullError, is_disk_full
from orchestration.runtime.sources import text_files
from orchestration.runtime.sources.export import ExportFile
from orchestration.runtime.sources.text_files import TextLayout

# The statuses that settle a file: it is not new to a run. A failed file is retried.
SETTLED_STATUSES = ("landed", "changed")
CHANGED_REASON = "file changed after it was landed; its new content was not loaded"
EMPTY_PARQUET_REASON = "an empty file (0 bytes) is not a Parquet file"
# How a reason names the format that an engine could not read the file as.
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "json": "NDJSON"}
_SETTLED = object()  # a file that needs no engine's read: failed, or landed as 0 rows


class RawLayer(Protocol):
    """What landing needs of an engine's raw layer (engines/duckdb.py, engines/spark.py)."""

    landing_errors: tuple[type[BaseException], ...]  # what a failed read or write raises

    def ensure_schema(self, models: Sequence[str]) -> None: ...

    def check_visible(self, f: ExportFile) -> None: ...

    def recorded(
        self, statuses: Sequence[str], model: str | None = None
    ) -> set[tuple[str, str]]: ...

    def record(self, rows: Sequence[tuple]) -> None:
        """Add `manifest_rows` to the manifest, each stamped with the time."""

    def land_batch(
        self,
        model: str,
        batch: Sequence[ExportFile],
        load_id: str,
        layout: TextLayout | None = None,
    ) -> dict[str, int]: ...

    def failure_reason(self, error: BaseException) -> str: ...

    def table_summary(self, model: str) -> tuple[int, datetime | None]: ...

    def disk_is_full(self) -> bool: ...


def manifest_rows(
    model: str,
    files: Sequence[ExportFile],
    load_id: str,
    *,
    status: str,
    rows: dict[str, int] | None = None,
    error: str | None = None,
) -> list[tuple]:
    """The manifest's rows for `files`, in spec/raw_layer.py's MANIFEST_COLUMNS but the last
    (recorded_at), which the engine stamps."""
    return [
        (
            f.path,
            model,
            f.dt,
            f.transfer_at,
            f.format,
            f.size,
            f.version,
            status,
            (rows or {}).get(f.path),
            error,
            load_id,
        )
        for f in files
    ]


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
    raw: RawLayer,
    model: str,
    files: Sequence[ExportFile],
    load_id: str,
    *,
    open_file: Callable[[ExportFile], BinaryIO],
) -> ModelLanding:
    """Land every file of `model` that the manifest has not recorded as landed. `open_file`
    opens an export file for reading (ExportSource.open)."""
    result = ModelLanding(model)
    landed = dict(raw.recorded(["landed"], model))
    new_files: list[ExportFile] = []
    for f in files:
        if f.path not in landed:
            new_files.append(f)
        elif landed[f.path] != f.version:
            result.changed.append(f.path)
            if (f.path, f.version) not in raw.recorded(["changed"], model):
                raw.record(
                    manifest_rows(model, [f], load_id, status="changed", error=CHANGED_REASON)
                )
        else:
            result.already_landed += 1

    batches: dict[tuple[str, TextLayout | None], list[ExportFile]] = {}
    for f in new_files:
        layout = _layout_or_settle(raw, model, f, load_id, result, open_file)
        if layout is not _SETTLED:
            batches.setdefault((f.format, layout), []).append(f)
    for (_, layout), batch in batches.items():
        _land_or_split(raw, model, batch, load_id, result, layout)
    return result


def _layout_or_settle(
    raw: RawLayer,
    model: str,
    f: ExportFile,
    load_id: str,
    result: ModelLanding,
    open_file: Callable[[ExportFile], BinaryIO],
) -> TextLayout | object | None:
    """A file's text layout (None for Parquet), or _SETTLED when it is settled without an
    engine's read: failed with a reason, or landed as 0 rows for want of columns."""
    if f.format not in text_files.TEXT_FORMATS:
        if f.size == 0:
            _record_failure(raw, model, f, load_id, result, EMPTY_PARQUET_REASON)
            return _SETTLED
        return None
    try:
        with open_file(f) as stream:
            layout = text_files.inspect(stream, f.format, gzipped=text_files.is_gzipped(f.uri))
    except text_files.UnreadableFile as exc:
        _record_failure(raw, model, f, load_id, result, str(exc))
        return _SETTLED
    except OSError as exc:  # the object store, after its retries (sources/export.py)
        _record_failure(raw, model, f, load_id, result, f"could not read the file: {exc}")
        return _SETTLED
    if layout.is_empty:
        raw.record(manifest_rows(model, [f], load_id, status="landed", rows={f.path: 0}))
        result.files_landed.append(f.path)
        return _SETTLED
    return layout


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
    layout: TextLayout | None,
) -> None:
    """Land the batch whole; if it fails, land each file alone, so a bad file is found and named."""
    try:
        rows = raw.land_batch(model, batch, load_id, layout)
    except raw.landing_errors as exc:
        if is_disk_full(exc) or raw.disk_is_full():
            # The disk, not the file: the run fails (defs/landing.py), no file is blamed.
            raise DiskFullError(str(exc)) from exc
        if len(batch) > 1:
            for f in batch:
                _land_or_split(raw, model, [f], load_id, result, layout)
            return
        failed = batch[0]
        reason = f"cannot read it as {FORMAT_NAMES[failed.format]}: {raw.failure_reason(exc)}"
        _record_failure(raw, model, failed, load_id, result, reason)
        return
    result.files_landed.extend(f.path for f in batch)
    result.rows_landed += sum(rows.values())


def _record_failure(
    raw: RawLayer, model: str, f: ExportFile, load_id: str, result: ModelLanding, reason: str
) -> None:
    raw.record(manifest_rows(model, [f], load_id, status="failed", error=reason))
    result.failed.append(FailedFile(f.path, reason))
