"""The file export as a source: its files land as they are (STIGG_EXPORT_URI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestration.runtime.engines.base import Engine
from orchestration.runtime.sources.base import RecordsListed
from orchestration.runtime.sources.export.files import ExportFile, ExportSource
from orchestration.settings import Settings


@dataclass(frozen=True)
class ExportFiles:
    files: ExportSource

    def metadata(self, model: str) -> dict[str, Any]:
        return {}

    def records_listed(self, model: str) -> RecordsListed:
        return RecordsListed(
            True, "the file export is insert-only: no record can stop being listed"
        )


class FileExportSource:
    name = "export"
    engines = None
    engines_reason = ""
    models_not_provided = ()
    redone_from_published = False
    unwatched_reason = None
    reads_api_settings = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> str:
        return self.settings.export_uri

    def preflight_error(self) -> str | None:
        if not ExportSource.of(self.settings).exists():
            return f"Stigg export location does not exist: {self.settings.export_uri}"
        return None

    def files_before_run(self) -> list[ExportFile] | None:
        source = ExportSource.of(self.settings)
        files, _ = source.scan()
        return None if source.listing_failures else files

    def prepare(self, run_id: str, log: Callable[[str], None]) -> ExportFiles:
        return ExportFiles(ExportSource.of(self.settings))

    def after_landing(self, engine: Engine, prepared: ExportFiles) -> None:
        pass
