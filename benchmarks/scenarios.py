"""What one benchmark runs on DuckDB: the bundled sample end to end, and a preset's export
(its comparisons without the pipeline, then its full, incremental and no-op runs)."""

from __future__ import annotations

import shutil

from benchmarks.baseline import duckdb_bulk_read, plain_sql_build
from benchmarks.exports import (
    DATA,
    copy_transfers,
    export_dir,
    generated_export,
    parquet_files,
    transfers,
)
from benchmarks.figures import Figures
from benchmarks.golden import GOLDEN, compare_with_golden
from benchmarks.runs import (
    LANDING_STEP,
    profile,
    run_environment,
    timed_run,
    warehouse_path,
)
from orchestration.settings import PROJECT_ROOT, SAMPLE_EXPORT_DIR


def sample_run() -> float:
    """The bundled sample into a fresh warehouse, as a second run on the machine is."""
    work = DATA / "sample"
    shutil.rmtree(work, ignore_errors=True)
    env = run_environment(work, SAMPLE_EXPORT_DIR)
    timed_run(env)  # the first run on the machine: dbt parses for this warehouse
    shutil.rmtree(warehouse_path(env).parent)
    return timed_run(env).seconds


def bench(name: str, shape: str, write_golden: bool = False) -> Figures:
    """Preset `name` in `shape` on DuckDB: transfers 1-29 in a full run, then the last one in an
    incremental run, then a no-op run; beside DuckDB's bulk read and the plain-SQL build of the
    same first 29 transfers."""
    generated = generated_export(name, shape)
    all_transfers = transfers(generated)
    first, last = all_transfers[:-1], all_transfers[-1:]

    work = export_dir(name, shape) / "work"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    copy_transfers(generated, export, first)
    env = run_environment(work, export)
    files = parquet_files(export)

    read_seconds, raw_rows = duckdb_bulk_read(files, work / "duckdb_read.duckdb")
    print(f"DuckDB bulk read: {raw_rows:,} rows in {read_seconds:.1f}s", flush=True)
    baseline_seconds = plain_sql_build(files, work / "plain_sql.duckdb")
    print(f"plain SQL build: {baseline_seconds:.1f}s", flush=True)
    for scratch in ("duckdb_read.duckdb", "plain_sql.duckdb"):
        (work / scratch).unlink(missing_ok=True)

    full = timed_run(env)
    full_profile = profile(env, full)
    landing_seconds = full_profile["steps"][LANDING_STEP]["seconds"]
    print(
        f"full run: {full.seconds:.1f}s (landing {landing_seconds:.1f}s), peak {full.peak_gib:.2f} GiB",
        flush=True,
    )

    copy_transfers(generated, export, last)
    incremental = timed_run(env)
    incremental_profile = profile(env, incremental)
    print(
        f"incremental run: {incremental.seconds:.1f}s, peak {incremental.peak_gib:.2f} GiB",
        flush=True,
    )
    noop = timed_run(env)
    print(f"no-op run: {noop.seconds:.2f}s", flush=True)
    warehouse = warehouse_path(env)
    golden = compare_with_golden(warehouse, f"{name}-{shape}", write=write_golden)
    if golden is not None:
        print(
            f"published warehouse vs {GOLDEN.relative_to(PROJECT_ROOT)}/{name}-{shape}.json: {golden}"
        )

    return Figures(
        preset=name,
        shape=shape,
        raw_rows=raw_rows,
        export_mb=_mb(sum(p.stat().st_size for p in export.rglob("*.parquet"))),
        landing_rows_per_s=raw_rows / landing_seconds,
        duckdb_read_rows_per_s=raw_rows / read_seconds,
        landing_ratio=read_seconds / landing_seconds,
        full_seconds=full.seconds,
        baseline_seconds=baseline_seconds,
        full_ratio=full.seconds / baseline_seconds,
        peak_memory_gib=max(full.peak_gib, incremental.peak_gib, noop.peak_gib),
        incremental_seconds=incremental.seconds,
        incremental_ratio=incremental.seconds / full.seconds,
        noop_seconds=noop.seconds,
        warehouse_mb=_mb(warehouse.stat().st_size),
        golden=golden,
        profile={"full": full_profile, "incremental": incremental_profile},
    )


def _mb(size: int) -> float:
    return size / 1e6
