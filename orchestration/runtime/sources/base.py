"""What a source does for a run: the interface the landing asset and the CLI call. The registry
is sources/__init__.py.

Every source hands landing files in the export's layout (sources/export/files.py): the file
export as it is, the API as the files its pull writes. A run asks the source to `prepare` them,
lands what it returns, and gives it back to `after_landing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from orchestration.settings import Settings

if TYPE_CHECKING:
    from orchestration.runtime.engines.base import Engine
    from orchestration.runtime.sources.export import ExportFile, ExportSource


class SourceFailed(RuntimeError):
    """A source could not give a run its files (the run fails with this message)."""


@dataclass(frozen=True)
class RecordsListed:
    """Whether every record a source listed before is still listed (a raw asset's check)."""

    passed: bool
    description: str
    gone: int = 0


class Prepared(Protocol):
    """What a run lands, and what the source reports of each model beside it."""

    files: ExportSource

    def metadata(self, model: str) -> dict[str, Any]: ...

    def records_listed(self, model: str) -> RecordsListed: ...


class Source(Protocol):
    name: ClassVar[str]
    # The engines it builds with (None: any), and why, for the settings' error.
    engines: ClassVar[tuple[str, ...] | None]
    engines_reason: ClassVar[str]
    # Models it cannot provide: their raw tables stay empty, and get no freshness check.
    models_not_provided: ClassVar[tuple[str, ...]]
    # A run is redone, never resumed: its working copy starts from the published warehouse.
    redone_from_published: ClassVar[bool]
    # Why the new-files sensor has nothing to watch (None: it watches the source's files).
    unwatched_reason: ClassVar[str | None]
    # Whether it reads Stigg's API settings (STIGG_API_*), which are read only for it.
    reads_api_settings: ClassVar[bool]

    def __init__(self, settings: Settings) -> None: ...

    def describe(self) -> str:
        """What a run reads, as the CLI names it."""

    def preflight_error(self) -> str | None:
        """Why a run cannot start (a missing export, no keys), or None."""

    def files_before_run(self) -> list[ExportFile] | None:
        """The files a run would land, when they are known before it starts (None: not
        before the run asks, or a folder could not be listed)."""

    def prepare(self, run_id: str, log: Callable[[str], None]) -> Prepared:
        """The files this run lands (a pull happens here)."""

    def after_landing(self, engine: Engine, prepared: Prepared) -> None:
        """Record what the source keeps beside the landed rows, in the working copy."""
