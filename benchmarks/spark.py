"""`--engine spark`: a preset's export, already benchmarked on DuckDB, run on a local Spark
Connect server on the same files: full (transfers 1-29), incremental (30) and no-op runs.

The server is the engine's own local server for the benchmark's warehouse (its folder:
Settings.spark_local_dir), started for the block and stopped after it, as a run starts one."""

from __future__ import annotations

import shutil

import psutil

from benchmarks.exports import copy_transfers, export_dir, transfers
from benchmarks.figures import Figures
from benchmarks.runs import run_environment, timed_run, variable
from orchestration.runtime.engines.spark.server import local_server
from orchestration.settings import Settings


def bench_spark(duck: Figures) -> dict:
    """The export of `duck` on local Spark: full (transfers 1-29), incremental (30), no-op."""
    folder = export_dir(duck.preset, duck.shape)
    generated = folder / "generated"
    all_transfers = transfers(generated)
    work = folder / "work-spark"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    copy_transfers(generated, export, all_transfers[:-1])
    print(f"\n=== {duck.preset} {duck.shape} on Spark ===", flush=True)
    env = {**run_environment(work, export), variable("engine"): "spark"}
    with local_server(Settings.from_env(env).spark_local_dir) as server:
        env["STIGG_SPARK_REMOTE"] = server.remote
        full = timed_run(env)
        print(f"full run on Spark: {full.seconds:.1f}s", flush=True)
        copy_transfers(generated, export, all_transfers[-1:])
        incremental = timed_run(env)
        print(f"incremental run on Spark: {incremental.seconds:.1f}s", flush=True)
        noop = timed_run(env)
        server_peak = psutil.Process(server.pid).memory_info().rss / 2**30
    return {
        "preset": duck.preset,
        "shape": duck.shape,
        "raw_rows": duck.raw_rows,
        "duckdb_full_seconds": duck.full_seconds,
        "duckdb_incremental_seconds": duck.incremental_seconds,
        "full_seconds": full.seconds,
        "full_vs_duckdb": full.seconds / duck.full_seconds,
        "incremental_seconds": incremental.seconds,
        "incremental_vs_full": incremental.seconds / full.seconds,
        "incremental_vs_duckdb": incremental.seconds / duck.incremental_seconds,
        "noop_seconds": noop.seconds,
        "client_peak_memory_gib": max(full.peak_gib, incremental.peak_gib),
        "server_rss_gib_at_end": server_peak,
    }
