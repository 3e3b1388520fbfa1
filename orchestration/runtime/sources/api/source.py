"""Stigg's API as a source: each run pulls what changed (pull.py) into files in the export's
layout beside the warehouse, lands them, and records the pull (manifest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestration.runtime.engines.base import Engine
from orchestration.runtime.sources.base import RecordsListed, SourceFailed
from orchestration.runtime.sources.export import ExportFile, ExportSource
from orchestration.settings import Settings
from orchestration.spec.api import NOT_FROM_THE_API

if TYPE_CHECKING:
    from orchestration.runtime.sources.api.pull import PullResult


@dataclass(frozen=True)
class Pulled:
    files: ExportSource
    result: PullResult

    def metadata(self, model: str) -> dict[str, Any]:
        pulled = self.result.by_model().get(model)
        if pulled is None:
            return {}
        return {
            "api_pages": pulled["pages"],
            "api_records_listed": pulled["listed"],
            "api_records_changed": pulled["changed"],
            "api_records_gone": pulled["gone"],
        }

    def records_listed(self, model: str) -> RecordsListed:
        pulled = self.result.by_model().get(model)
        if model in NOT_FROM_THE_API:
            return RecordsListed(True, "not pulled: Stigg's API cannot list raw usage events")
        if pulled is None or not pulled["full"]:
            return RecordsListed(
                True, "pulled incrementally: a record that stops being listed cannot be told"
            )
        if pulled["gone"]:
            return RecordsListed(
                False,
                f"{pulled['gone']} record(s) that an earlier pull listed are no longer listed; "
                "their rows stay as last seen",
                pulled["gone"],
            )
        return RecordsListed(True, "every record listed before is still listed")


class ApiSource:
    name = "api"
    engines = ("duckdb",)
    engines_reason = (
        "The pull writes files in the export's layout, so a Spark build can land them as "
        "an export (STIGG_EXPORT_URI=<the pull folder>)."
    )
    models_not_provided = NOT_FROM_THE_API
    # A pull is redone, never resumed (pull.py): its working copy starts from the published
    # warehouse, like the pull's watermark and state.
    redone_from_published = True
    unwatched_reason = (
        "STIGG_SOURCE=api: Stigg's API has no files to watch. The schedule pulls "
        "(STIGG_SCHEDULE_CRON, turned on with STIGG_SCHEDULE_ENABLED=true)."
    )
    reads_api_settings = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> str:
        api = self.settings.api
        return f"Stigg's API at {api.url} ({len(api.keys)} key(s))"

    def preflight_error(self) -> str | None:
        if self.settings.api.keys:
            return None
        return (
            "STIGG_SOURCE=api needs the API's server keys: set STIGG_API_KEYS "
            "(comma-separated, each KEY or ENV_ID=KEY) or STIGG_API_KEYS_FILE. "
            f"{self.settings.api.keys_origin} gave none."
        )

    def files_before_run(self) -> list[ExportFile] | None:
        return None  # a pull must ask the API first

    def prepare(self, run_id: str, log: Callable[[str], None]) -> Pulled:
        # dlt is imported for a pull only: loading the definitions starts no process.
        from orchestration.runtime.sources.api import pull

        try:
            result = pull.pull(self.settings, run_id, log=log)
        except pull.ApiSourceError as exc:
            raise SourceFailed(f"Stigg's API: {exc}") from None
        return Pulled(ExportSource.of(self.settings, uri=str(self.settings.api_export_dir)), result)

    def after_landing(self, engine: Engine, prepared: Pulled) -> None:
        """meta.api_pulls and meta.api_records of the working copy (manifest.py)."""
        from orchestration.runtime.sources.api import manifest

        manifest.record_in(self.settings.build_path, prepared.result)
