"""`--long-haul`: the long haul of tests/support/long_haul.py on each export: its transfers one run
each, from an S3-compatible server on 127.0.0.1 through the fault-injecting proxy, with kills;
then one clean build of the same transfers, and whether every table is equal."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.exports import export_dir, generated_export
from benchmarks.results import RESULTS_DIR, write_results
from benchmarks.runs import run_environment, timed_run
from orchestration.spec.raw_layer import MANIFEST_TABLE

SEED = 20261202


def long_haul(runs: list[str], results_dir: Path = RESULTS_DIR) -> int:
    """The haul of each of `runs` (PRESET:SHAPE); writes results-long-haul.json."""
    from tests.support.long_haul import run_long_haul, s3_env
    from tests.support.s3 import moto_server
    from tests.support.warehouse import table_checksums

    hauls = []
    for run in runs:
        name, _, shape = run.partition(":")
        shape = shape or "default"
        generated = generated_export(name, shape)
        work = export_dir(name, shape) / "long-haul"
        shutil.rmtree(work, ignore_errors=True)
        base = run_environment(work, generated)
        with moto_server() as endpoint:
            print(f"\n=== long haul, preset {run} ===", flush=True)
            warehouse, figures = run_long_haul(generated, work, endpoint, base, seed=SEED)
            clean_path = work / "clean" / "stigg_warehouse.duckdb"
            clean = timed_run(s3_env(base, endpoint, clean_path, work / "dagster_home"))
        haul, clean_build = table_checksums(warehouse), table_checksums(clean_path)
        # The manifest records each run's loads, which the haul's kills and retries make differ.
        differ = sorted(
            relation
            for relation in set(haul) | set(clean_build)
            if haul.get(relation) != clean_build.get(relation) and relation != MANIFEST_TABLE
        )
        hauls.append(
            {
                "preset": run,
                "figures": figures.line(),
                "haul_seconds": round(figures.seconds, 1),
                "clean_build_seconds": round(clean.seconds, 1),
                "tables_differing_from_the_clean_build": differ,
            }
        )
        print(f"{figures.line()}; clean build {clean.seconds:.1f}s; differing tables: {differ}")
    written = write_results("results-long-haul.json", directory=results_dir, hauls=hauls)
    print(f"\nWrote {written}")
    return 0
