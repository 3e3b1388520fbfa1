"""The folder that pulls write into, in the export's own layout
(`<model>/dt=<day>/api-<environment>-<run>_<YYYYMMDDhhmmss>.parquet`, every column as text), so
that the export's landing lands it."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.runtime.sources.api.rows import Row
from orchestration.spec.api import API_MODELS_BY_MODEL


class ExportFolder:
    """One run's files in the pull folder (`Settings.api_export_dir`)."""

    def __init__(self, folder: Path, run_id: str, pulled_at: datetime) -> None:
        self.folder = folder
        self.run_id = run_id
        self.pulled_at = pulled_at

    def discard_unpublished_files(self, landed_paths: set[str]) -> int:
        """Delete the pull files that no published manifest names (`landed_paths`, relative to
        the folder): a killed or failed run's. Returns how many were deleted."""
        self.folder.mkdir(parents=True, exist_ok=True)
        removed = 0
        for path in sorted(self.folder.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(self.folder).as_posix()
            if relative not in landed_paths:
                path.unlink()
                removed += 1
        for directory in sorted(self.folder.rglob("*"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        return removed

    def write(self, model: str, environment_id: str, rows: list[Row]) -> str:
        """The rows as one export file; written beside, then renamed into place. Returns its
        path relative to the folder."""
        columns = API_MODELS_BY_MODEL[model].table.column_names
        table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in columns})
        slug = re.sub(r"[^A-Za-z0-9-]", "-", environment_id)
        name = f"api-{slug}-{self.run_id[:8]}_{self.pulled_at:%Y%m%d%H%M%S}.parquet"
        relative = f"{model}/dt={self.pulled_at:%Y-%m-%d}/{name}"
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
        return relative
