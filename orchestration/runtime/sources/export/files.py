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
from typing import BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from orchestration.settings import ObjectStoreRetry, Settings
from orchestration.spec.tables import file_environment, model_for_folder

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
    def environment(self) -> str | None:
        """The environment its folder names (spec/tables.py, file_environment), or None."""
        return file_environment(self.path)

    @property
    def version(self) -> str:
        """What the manifest records of the file's version: a replaced file gets a new one."""
        return f"{self.size}:{self.fingerprint}"


@dataclass(frozen=True)
class ListingFailure:
    """A model's folder that could not be listed (after the retries): none of its files is known,
    so none lands, rather than the part of a listing that came back."""

    folder: str
    model: str | None
    reason: str


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

    def __init__(
        self,
        uri: str,
        endpoint_url: str | None = None,
        retry: ObjectStoreRetry | None = None,
    ):
        self.uri = uri.rstrip("/")
        self.is_remote = "://" in self.uri and not self.uri.startswith("file://")
        self.endpoint_url = endpoint_url  # an S3-compatible server (Settings.s3_endpoint_url)
        self.retry = retry or ObjectStoreRetry()
        self.listing_failures: list[ListingFailure] = []

    @classmethod
    def of(cls, settings: Settings, uri: str | None = None) -> ExportSource:
        """The export that `settings` name (or `uri`), with their endpoint and retry policy."""
        return cls(uri or settings.export_uri, settings.s3_endpoint_url, settings.s3_retry)

    @cached_property
    def fs(self) -> fsspec.AbstractFileSystem:
        if not self.is_remote:
            return LocalFileSystem()
        protocol = self.uri.split("://", 1)[0]
        options: dict = {}
        if protocol in ("s3", "s3a"):
            # The retry policy (settings.ObjectStoreRetry): botocore retries each request that
            # gets a 5xx, SlowDown or a dropped connection (its standard mode: exponential
            # backoff with jitter); s3fs reads again a body that is cut off or times out.
            options["config_kwargs"] = {
                "retries": {"max_attempts": self.retry.max_attempts, "mode": "standard"},
                "connect_timeout": self.retry.connect_timeout_seconds,
                "read_timeout": self.retry.read_timeout_seconds,
            }
            if self.endpoint_url:
                # Credentials stay boto's own (the standard AWS variables); never arguments.
                options["client_kwargs"] = {"endpoint_url": self.endpoint_url}
        fs = fsspec.filesystem(protocol, **options)
        if protocol in ("s3", "s3a"):
            fs.retries = self.retry.max_attempts  # s3fs's re-reads (a class attribute there)
        return fs

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
        """Every data file of a known model, and every other path with the reason it was skipped.

        Each top-level folder is listed on its own: one whose listing fails (after the retries)
        is in `listing_failures`, and none of its files is returned."""
        if not self.exists():
            raise FileNotFoundError(f"Stigg export location does not exist: {self.uri}")
        self.fs.invalidate_cache()
        self.listing_failures = []
        files: list[ExportFile] = []
        skipped: list[SkippedPath] = []
        for entry in sorted(self.fs.ls(self.root, detail=True), key=lambda e: e["name"]):
            folder = entry["name"].rstrip("/").rsplit("/", 1)[-1]
            if folder.startswith((".", "_")):
                continue  # hidden and temporary files (.DS_Store, _SUCCESS, .part)
            if entry.get("type") != "directory":
                skipped.append(SkippedPath(folder, parse_export_path(folder)))
                continue
            try:
                found = self.fs.find(f"{self.root}/{folder}", detail=True)
            except Exception as exc:
                self.listing_failures.append(
                    ListingFailure(folder, model_for_folder(folder), _describe(exc))
                )
                continue
            for full_path, info in sorted(found.items()):
                self._add(full_path, info, files, skipped)
        return files, skipped

    def _add(self, full_path: str, info: dict, files: list, skipped: list) -> None:
        relative = full_path[len(self.root) :].lstrip("/")
        if any(p.startswith((".", "_")) for p in relative.split("/")):
            return  # hidden and temporary files (.DS_Store, _SUCCESS, .part)
        parsed = parse_export_path(relative)
        if isinstance(parsed, str):
            skipped.append(SkippedPath(relative, parsed))
            return
        folder, dt, transfer_at, part, fmt = parsed
        model = model_for_folder(folder)
        if model is None:
            skipped.append(SkippedPath(relative, f"folder {folder!r} is not a documented model"))
            return
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

    def open(self, f: ExportFile) -> BinaryIO:
        """An export file, opened for reading through the listing's filesystem."""
        return self.fs.open(f.uri.split("://", 1)[1] if self.is_remote else f.uri, "rb")

    def _uri_of(self, full_path: str) -> str:
        return f"{self.protocol}://{full_path}" if self.is_remote else full_path


def _describe(error: BaseException) -> str:
    """An object store's failure in one line: its type and first line (S3's error code is in it)."""
    text = (str(error).strip().splitlines() or [""])[0][:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _fingerprint(info: dict) -> str:
    for key in ("ETag", "etag", "md5"):
        if info.get(key):
            return str(info[key]).strip('"')
    mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
    if isinstance(mtime, datetime):
        return mtime.isoformat()
    return f"{mtime}"
