"""The benchmark's command line: `uv run python benchmarks/run.py [RUN ...] [options]` or
`uv run python -m benchmarks ...`. Arguments are read in main(), never when a module loads."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import benchmarks
from orchestration.synthetic.scale_export import PRESETS, SHAPES

DEFAULT_RUNS = ["sample", "S:default", "M:default", "M:versions", "M:wide"]
LONG_HAUL_DEFAULT_RUNS = ["M:default"]
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Options:
    runs: list[str]  # "sample" or PRESET:shape, in the order given
    engine: str = "duckdb"  # spark: each export on Spark too, beside DuckDB
    write_golden: bool = False
    long_haul: bool = False
    results_dir: Path | None = None  # None: benchmarks/


def run_name(argument: str) -> str:
    """`sample`, or PRESET[:SHAPE] in any case, as "PRESET:shape" (the shape default if none)."""
    if argument.lower() == "sample":
        return "sample"
    preset, _, shape = argument.upper().partition(":")
    shape = shape.lower() or "default"
    if preset not in PRESETS or shape not in SHAPES:
        raise argparse.ArgumentTypeError(
            f"unknown {argument!r}: choose 'sample' or PRESET[:SHAPE] from {sorted(PRESETS)} "
            f"and {sorted(SHAPES)}"
        )
    return f"{preset}:{shape}"


def parser() -> argparse.ArgumentParser:
    # The package's docstring: its first line describes, the rest (what each figure is, up to
    # the list of modules) follows the options.
    summary, _, figures = (benchmarks.__doc__ or "").partition("\n\n")
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description=summary,
        epilog=figures.partition("\nThe modules,")[0].rstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "runs",
        nargs="*",
        type=run_name,
        metavar="RUN",
        help=(
            f"'sample' (the bundled sample, end to end) or PRESET[:SHAPE], PRESET one of "
            f"{', '.join(PRESETS)} and SHAPE one of {', '.join(SHAPES)} (default: default). "
            f"Default: {' '.join(DEFAULT_RUNS)}; with --long-haul, {' '.join(LONG_HAUL_DEFAULT_RUNS)}."
        ),
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="spark: also run each export on local Spark, beside DuckDB (results-spark.json).",
    )
    parser.add_argument(
        "--write-golden",
        action="store_true",
        help="Keep each export's published warehouse as benchmarks/golden/<preset>-<shape>.json.",
    )
    parser.add_argument(
        "--long-haul",
        action="store_true",
        help="The long haul (tests/support/long_haul.py) on each export instead (results-long-haul.json).",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        metavar="DIR",
        help="Write the results*.json files here instead of benchmarks/.",
    )
    return parser


def parse(argv: Sequence[str] | None = None) -> Options:
    # Intermixed: runs and options in any order (`S --write-golden M`), as the script always took.
    args = parser().parse_intermixed_args(argv)
    default = LONG_HAUL_DEFAULT_RUNS if args.long_haul else DEFAULT_RUNS
    return Options(
        runs=args.runs or list(default),
        engine=args.engine,
        write_golden=args.write_golden,
        long_haul=args.long_haul,
        results_dir=args.results_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    # The measuring modules import only once there is something to measure: --help and a
    # mistyped argument cost no imports of DuckDB, psutil or the project's runtime.
    from benchmarks.report import render, render_profile, render_spark
    from benchmarks.results import RESULTS_DIR, write_results
    from benchmarks.runs import variable
    from benchmarks.scenarios import bench, sample_run

    results_dir = options.results_dir or RESULTS_DIR
    if options.long_haul:
        from benchmarks.long_haul import long_haul

        return long_haul([r for r in options.runs if r != "sample"], results_dir)
    results = []
    sample_seconds = None
    for run in options.runs:
        if run == "sample":
            sample_seconds = sample_run()
            print(f"sample export, end to end: {sample_seconds:.1f}s", flush=True)
            continue
        preset, _, shape = run.partition(":")
        print(f"\n=== preset {preset}, shape {shape} ===", flush=True)
        results.append(bench(preset, shape, write_golden=options.write_golden))
    spark_results = []
    if options.engine == "spark":
        from benchmarks.spark import bench_spark

        spark_results = [bench_spark(r) for r in results]
    print()
    print(render(results, sample_seconds))
    if spark_results:
        print()
        print(render_spark(spark_results))
        write_results("results-spark.json", directory=results_dir, results=spark_results)
    for figures in results:
        print()
        print(render_profile(figures))
    written = write_results(
        "results.json",
        directory=results_dir,
        memory_limit=os.environ.get(variable("duckdb_memory_limit"), "default"),
        sample_run_seconds=sample_seconds,
        results=[asdict(r) for r in results],
    )
    print(f"\nWrote {written}")
    return 0
