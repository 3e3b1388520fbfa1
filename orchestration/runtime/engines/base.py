"""What an engine does for a run and for its readers: the interface the assets, the CLI and the
report call, and nothing engine-specific beside it. The registry is engines/__init__.py.

A run, in order: `working_copy` (entered inside the writer lock: the copy or slot a run builds
into), `raw_layer` (landing), `build_input` (the skip rule, runtime/build_state.py), `dbt_vars`,
`record_build`, `publish`; `discard_working_copy` after a full disk; `close` at the end. A reader
(the sensor, the report, the CLI's pre-flight) gets the engine from `for_reading`, which never
starts a server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from orchestration.settings import Settings

if TYPE_CHECKING:
    import duckdb

    from orchestration.runtime.landing import RawLayer
    from orchestration.runtime.sources.export import ExportFile, ExportSource

Report = Callable[[str], None]


@dataclass(frozen=True)
class BuildInput:
    """What the dbt asset decides from: nothing to build, and the input's fingerprint."""

    unchanged: bool
    fingerprint: str
    largest_raw_rows: int = 0


class EngineNotRunning(RuntimeError):
    """A reader needs a server that is not running (a reader never starts one)."""


class Engine(Protocol):
    name: ClassVar[str]
    dbt_target: ClassVar[str]

    def __init__(self, settings: Settings) -> None: ...

    @classmethod
    def for_reading(cls, settings: Settings) -> Engine:
        """The engine over the published warehouse, for a reader; EngineNotRunning when it
        needs a server that is not running."""

    def describe(self) -> str:
        """Where a run writes, as the CLI's first line names it."""

    def run_notes(self) -> list[str]:
        """What else the CLI says before a run starts (which server it uses)."""

    def disk_shortfall(
        self, files: Sequence[ExportFile] | None, *, full_refresh: bool
    ) -> str | None:
        """Why a run cannot start for lack of disk space, or None. `files`: the source's files,
        when they are known before the run."""

    def nothing_new(self, files: Sequence[ExportFile]) -> bool:
        """True when a run over `files` would change nothing (read before a run starts);
        False when that cannot be told without one."""

    def working_copy(
        self, *, from_scratch: bool, from_published: bool, report: Report, log: Report
    ) -> AbstractContextManager[None]:
        """The block a run builds in, entered inside the writer lock (runtime/writer.py)."""

    def raw_layer(self, source: ExportSource) -> AbstractContextManager[RawLayer]: ...

    def build_input(self) -> BuildInput: ...

    def dbt_vars(self) -> dict[str, str]: ...

    def record_build(self, fingerprint: str) -> None: ...

    def publish(self, run_id: str) -> dict[str, Any]:
        """Make the build the one readers see; the asset's metadata."""

    def discard_working_copy(self) -> None: ...

    def unpublished_files(
        self, files: Sequence[ExportFile], statuses: Sequence[str]
    ) -> list[ExportFile]:
        """The files the published manifest has not recorded in one of `statuses`."""

    def published_tables(
        self, names: Sequence[str]
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A DuckDB connection on which the published tables `names` can be read (the report
        renders with DuckDB whatever the engine); FileNotFoundError when none is published."""

    def close(self) -> None: ...
