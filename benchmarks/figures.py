"""One benchmark's figures (a preset and shape on DuckDB): what report.py prints and
results.json holds, one field each."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    preset: str
    shape: str
    raw_rows: int
    export_mb: float
    landing_rows_per_s: float
    duckdb_read_rows_per_s: float
    landing_ratio: float
    full_seconds: float
    baseline_seconds: float
    full_ratio: float
    peak_memory_gib: float
    incremental_seconds: float
    incremental_ratio: float
    noop_seconds: float
    warehouse_mb: float
    # The published warehouse against benchmarks/golden/<preset>-<shape>.json, where one is kept:
    # "same", or the relations that differ. None: no golden file for this export.
    golden: str | None = None
    profile: dict = field(default_factory=dict)
