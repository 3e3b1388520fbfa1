"""The file export: Stigg's Parquet (or CSV, NDJSON) files in `<model>/dt=<day>/` folders, on disk
or in object storage. `files.py` lists and opens them (the API source lands through it too);
`source.py` is the source that lands them as they are."""

from orchestration.runtime.sources.export.files import (
    ExportFile,
    ExportSource,
    ListingFailure,
    SkippedPath,
    file_format,
    parse_export_path,
)
from orchestration.runtime.sources.export.source import FileExportSource as SOURCE

__all__ = [
    "SOURCE",
    "ExportFile",
    "ExportSource",
    "ListingFailure",
    "SkippedPath",
    "file_format",
    "parse_export_path",
]
