"""`stigg-warehouse`: run the pipeline (run.py), start the UI (ui.py), generate an export, write
the report, render dbt files, and the commands an engine adds (orchestration/registry.py)."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestration.cli import run, ui
from orchestration.registry import ENGINES, SOURCES, engine_class, engine_commands
from orchestration.runtime.engines.base import EngineNotRunning
from orchestration.settings import PROJECT_ROOT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stigg-warehouse",
        description="ELT from a Stigg data export into a DuckDB warehouse (dbt + Dagster).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="Land new export files, dbt build, publish (one Dagster run)."
    )
    run.add_argument(
        "--export-uri", help="Overrides STIGG_EXPORT_URI (a folder or s3://bucket/prefix)."
    )
    run.add_argument(
        "--warehouse-path", help="Overrides STIGG_WAREHOUSE_PATH (the published DuckDB file)."
    )
    run.add_argument(
        "--engine",
        choices=list(ENGINES),
        help="Overrides STIGG_ENGINE: build with DuckDB (the default) or Spark.",
    )
    run.add_argument(
        "--source",
        choices=list(SOURCES),
        help="Overrides STIGG_SOURCE: read the file export (the default) or Stigg's API "
        "(keys from STIGG_API_KEYS or STIGG_API_KEYS_FILE, never a flag).",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="Rebuild the warehouse from the export alone: every file lands again.",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help=(
            "Also print dbt's own log lines (always in "
            "dbt_project/target/warehouses/<warehouse>-<hash>/<invocation>/dbt.log)."
        ),
    )

    generate = commands.add_parser(
        "generate", help="Write a synthetic Stigg export in the real layout."
    )
    generate.add_argument(
        "--out", required=True, type=Path, help="Folder to write; must be empty or absent."
    )
    generate.add_argument(
        "--preset",
        choices=["S", "M", "L"],
        help=(
            "A large export, vectorised in DuckDB and streamed to disk: S (1k customers, 100k "
            "events), M (100k, 10M), L (1M, 100M), over 30 transfers. Without it: the small "
            "export of edge cases that seeds/sample_export was made with."
        ),
    )
    generate.add_argument(
        "--memory-limit", default="2GB", help="DuckDB's memory limit for --preset (default 2GB)."
    )
    generate.add_argument(
        "--shape",
        choices=["default", "versions", "wide"],
        default="default",
        help=(
            "With --preset, what the export looks like: default; versions (3 versions of every "
            "subscription, 2 of every customer and entitlement, 2x the measurements, 20 event "
            "names, 50 plans); wide (100k event names and plans)."
        ),
    )
    generate.add_argument("--customers", type=int, default=300)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--transfers", type=int, default=4)
    generate.add_argument("--environments", type=int, default=2)
    generate.add_argument("--events-per-customer", type=int, default=6)
    generate.add_argument("--force", action="store_true", help="Replace the folder if it exists.")

    ui = commands.add_parser("ui", help="Start the Dagster UI on 127.0.0.1.")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--i-know-it-is-open",
        action="store_true",
        help="Serve on a --host other than loopback, although the Dagster UI has no "
        "authentication: anyone who reaches the address can start runs and read their logs.",
    )

    for engine_command in engine_commands():
        engine_command.add_parser(commands)

    report = commands.add_parser(
        "report",
        help="Write the analytics report: one self-contained HTML page of charts.",
    )
    report.add_argument(
        "--warehouse-path", help="Overrides STIGG_WAREHOUSE_PATH (the published DuckDB file)."
    )
    report.add_argument(
        "--out",
        type=Path,
        help="Where to write it (default: <warehouse name>_report.html beside the warehouse).",
    )

    codegen = commands.add_parser("codegen", help="Render the dbt files that follow from the spec.")
    codegen.add_argument("--check", action="store_true", help="Fail if a rendered file is stale.")
    return parser


def _generate(args: argparse.Namespace) -> int:
    from orchestration.synthetic.sample_export import ExportConfig, generate_export

    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(f"error: {out} is not empty (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    if args.preset:
        from orchestration.synthetic.scale_export import PRESETS, SHAPES, generate_scale_export

        scaled = generate_scale_export(
            out,
            PRESETS[args.preset],
            shape=SHAPES[args.shape],
            seed=args.seed,
            memory_limit=args.memory_limit,
        )
        print(
            f"Wrote {scaled.files} files, {scaled.rows:,} rows ({scaled.bytes / 1e6:,.0f} MB) "
            f"to {out} in {scaled.seconds:.1f}s"
        )
        return 0
    config = ExportConfig(
        customers=args.customers,
        seed=args.seed,
        transfers=args.transfers,
        environments=args.environments,
        events_per_customer=args.events_per_customer,
    )
    summary = generate_export(out, config)
    print(f"Wrote {summary.files} files, {summary.rows} rows to {out}")
    return 0


def _codegen(args: argparse.Namespace) -> int:
    from orchestration.spec import dbt_files

    if args.check:
        stale = dbt_files.stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(PROJECT_ROOT)}")
        return 1 if stale else 0
    for path in dbt_files.write_files():
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from orchestration.report.page import write_report

    settings = run.run_settings(args)
    out = (args.out or settings.report_path).absolute()
    try:
        report = write_report(engine_class(settings.engine).for_reading(settings), out)
    except (FileNotFoundError, EngineNotRunning) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"Report: {report.charts_with_data} of {report.charts} charts with data, "
        f"{report.environments} environment(s) → {out}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "run": run.run,
        "generate": _generate,
        "ui": ui.run,
        "report": _report,
        "codegen": _codegen,
        **{command.name: command.run for command in engine_commands()},
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
