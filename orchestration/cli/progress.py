"""The CLI's live progress: one line per step and per asset, read from the run's Dagster events."""

from __future__ import annotations

import threading
from typing import TextIO

import dagster as dg

_STEP_TITLES = {
    "raw_export": "landing new export files",
    "stigg_dbt_models": "dbt build (models and tests)",
    "warehouse__published": "publishing",
    "analytics__report": "writing the analytics report",
}
_LOG_LEVEL_WARNING = 30


def progress_line(entry: dg.EventLogEntry) -> str | None:
    """The line to print for one event of the run, or None to stay quiet."""
    event = entry.dagster_event
    if event is None:
        # A message that an asset or resource logged: show warnings and errors (and waits).
        if entry.level >= _LOG_LEVEL_WARNING:
            return f"  ! {entry.user_message}"
        return None
    if event.event_type == dg.DagsterEventType.STEP_START:
        step = event.step_key or ""
        return f"▸ {_STEP_TITLES.get(step, step)}"
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        error = event.step_failure_data.error
        lines = error.message.strip().splitlines() if error else ["failed"]
        return "\n".join(
            [f"✗ {event.step_key}: {lines[0]}", *(f"    {line}" for line in lines[1:20])]
        )
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.step_materialization_data.materialization
        return "  " + _materialization_line(materialization)
    if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            return None
        severity = evaluation.severity.value if evaluation.severity else "ERROR"
        failed_rows = evaluation.metadata.get("dagster_dbt/failed_row_count")
        rows = f", {failed_rows.value} rows" if failed_rows is not None else ""
        return (
            f"    {severity}: {evaluation.asset_key.to_user_string()} {evaluation.check_name}{rows}"
        )
    return None


def _materialization_line(materialization: dg.AssetMaterialization) -> str:
    key = materialization.asset_key.to_user_string()
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    total = metadata.get("dagster/row_count")
    if "files_landed" in metadata:
        line = (
            f"{key:<40} +{metadata['files_landed']} files, +{metadata['rows_landed']:,} rows"
            f" ({total:,} in table)"
        )
        if metadata.get("files_failed"):
            line += f", {metadata['files_failed']} FAILED"
        return line
    if "size_bytes" in metadata:
        return (
            f"{key:<40} {metadata['size_bytes'] / 1e6:,.1f} MB "
            f"in {metadata.get('publish_seconds', 0):.1f}s → {metadata.get('path')}"
        )
    if "charts_with_data" in metadata:
        return (
            f"{key:<40} {metadata['charts_with_data']} of {metadata['charts']} charts with data "
            f"→ {metadata.get('path')}"
        )
    return f"{key:<40} {total:,} rows" if total is not None else key


class ProgressPrinter:
    """Polls the instance for a run's events in a thread and prints them as they come."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, out: TextIO) -> None:
        self._instance = instance
        self._run_id = run_id
        self._out = out
        self._cursor: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_until_stopped, daemon=True)

    def __enter__(self) -> ProgressPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._print_new_events()  # whatever arrived after the last poll

    def _poll_until_stopped(self) -> None:
        while not self._stop.wait(0.5):
            self._print_new_events()

    def _print_new_events(self) -> None:
        if not self._instance.has_run(self._run_id):
            return
        while True:
            connection = self._instance.get_records_for_run(
                self._run_id, cursor=self._cursor, limit=1000
            )
            for record in connection.records:
                line = progress_line(record.event_log_entry)
                if line:
                    print(line, file=self._out, flush=True)
            self._cursor = connection.cursor
            if not connection.has_more:
                return
