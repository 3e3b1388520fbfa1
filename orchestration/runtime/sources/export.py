"""The Stigg export on disk or in object storage: what files it holds, parsed from their paths.

Layout (shared/stigg-export-format.md):
    <root>/<model>/dt=<YYYY-MM-DD>/<part>_<YYYYMMDDhhmmss>.parquet
The root is a local folder or an `s3://bucket/prefix` URI; both are listed through fsspec, and
DuckDB reads s3 files through the same fsspec filesystem (httpfs cannot be downloaded here).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

import fsspec
from fsspec.implementations.local import LocalFileSystem

from orchestration.spec.tables import model_for_folder

_FILE_NAME = re.compile(
    r"^(?P<part>.+)_(?P<ts>\d{14})\.(?P<ext>parquet|csv|csv\.gz|json|ndjson|jsonl|json\.gz|ndjson\.gz|jsonl\.gz)$",
    re.IGNORECASE,
)
_DT_FOLDER = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class ExportFile:
    """One data file of the export."""

    uri: str  # what DuckDB reads: a local path or an s3:// URI
    path: str  # relative to the export root: <folder>/dt=<date>/<name>
    folder: str
    model: str
    dt: date
    transfer_at: datetime
    part: str
    format: str  # parquet | csv | json
    size: int
    fingerprint: str  # mtime (local) or ETag (s3): changes when the file is replaced

    @property
    def version(self) -> str:
        """What the manifest records of the file's version: a replaced file gets a new one."""
        return f"{self.size}:{self.fingerprint}"


@dataclass(frozen=True)
class SkippedPath:
    """A path under the export root that is not a data file of a known model."""

    path: str
    reason: str


def file_format(extension: str) -> str:
    ext = extension.lower()
    if ext.startswith("parquet"):
        return "parquet"
    if ext.startswith("csv"):
        return "csv"
    return "json"


def parse_export_path(relative_path: str) -> tuple[str, date, datetime, str, str] | str:
    """(folder, dt, transfer_at, part, format) for a data file's relative path, or why not."""
    parts = relative_path.split("/")
    if len(parts) != 3:
        return "not in <model>/dt=<YYYY-MM-DD>/<part>_<YYYYMMDDhhmmss>.<ext> layout"
    folder, dt_folder, name = parts
    dt_match = _DT_FOLDER.match(dt_folder)
    if not dt_match:
        return f"folder {dt_folder!r} is not dt=<YYYY-MM-DD>"
    name_match = _FILE_NAME.match(name)
    if not name_match:
        return "file name does not match <part>_<YYYYMMDDhhmmss>.<parquet|csv|ndjson|...>"
    try:
        dt = date.fromisoformat(dt_match.group(1))
        transfer_at = datetime.strptime(name_match.group("ts"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        return f"invalid date or transfer timestamp: {exc}"
    return folder, dt, transfer_at, name_match.group("part"), file_format(name_match.group("ext"))


class ExportSource:
    """Lists an export's files, local or s3://, through one fsspec filesystem."""

    def __init__(self, uri: str, endpoint_url: str | None = None):
        self.uri = uri.rstrip("/")
        self.is_remote = "://" in self.uri and not self.uri.startswith("file://")
        self.endpoint_url = endpoint_url  # an S3-compatible server (Settings.s3_endpoint_url)

    @cached_property
    def fs(self) -> fsspec.AbstractFileSystem:
        if not self.is_remote:
            return LocalFileSystem()
        protocol = self.uri.split("://", 1)[0]
        options = {}
        if protocol in ("s3", "s3a") and self.endpoint_url:
            # Credentials stay boto's own (the standard AWS variables); never arguments.
            options["client_kwargs"] = {"endpoint_url": self.endpoint_url}
        return fsspec.filesystem(protocol, **options)

    @property
    def protocol(self) -> str:
        return self.uri.split("://", 1)[0] if self.is_remote else "file"

    @property
    def root(self) -> str:
        """The root as the filesystem names it (no protocol)."""
        if self.is_remote:
            return self.uri.split("://", 1)[1]
        return os.path.abspath(self.uri.removeprefix("file://"))

    def exists(self) -> bool:
        return self.fs.isdir(self.root)

    def scan(self) -> tuple[list[ExportFile], list[SkippedPath]]:
        """Every data file of a known model, and every other path with the reason it was skipped."""
        if not self.exists():
            raise FileNotFoundError(f"Stigg export location does not exist: {self.uri}")
        self.fs.invalidate_cache()
        files: list[ExportFile] = []
        skipped: list[SkippedPath] = []
        for full_path, info in sorted(self.fs.find(self.root, detail=True).items()):
            relative = full_path[len(self.root) :].lstrip("/")
            if any(p.startswith((".", "_")) for p in relative.split("/")):
                continue  # hidden and temporary files (.DS_Store, _SUCCESS, .part)
            parsed = parse_export_path(relative)
            if isinstance(parsed, str):
                skipped.append(SkippedPath(relative, parsed))
                continue
            folder, dt, transfer_at, part, fmt = parsed
            model = model_for_folder(folder)
            if model is None:
                skipped.append(
                    SkippedPath(relative, f"folder {folder!r} is not a documented model")
                )
                continue
            files.append(
                ExportFile(
                    uri=self._uri_of(full_path),
                    path=relative,
                    folder=folder,
                    model=model,
                    dt=dt,
                    transfer_at=transfer_at,
                    part=part,
                    format=fmt,
                    size=int(info.get("size") or 0),
                    fingerprint=_fingerprint(info),
                )
            )
        return files, skipped

    def _uri_of(self, full_path: str) -> str:
        return f"{self.protocol}://{full_path}" if self.is_remote else full_path


def _fingerprint(info: dict) -> str:
    for key in ("ETag", "etag", "md5"):
        if info.get(key):
            return str(info[key]).strip('"')
    mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
    if isinstance(mtime, datetime):
        return mtime.isoformat()
    return f"{mtime}"
