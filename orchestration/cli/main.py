"""`stigg-warehouse`: run the pipeline, generate an export, start the UI, write the report,
render dbt files. Argument handling is pure functions (`run_settings`, `run_config`,
`run_tags`, `ui_command`) that plain pytest tests; Dagster is imported only by the commands that
need it."""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestration.registry import (
    ENGINES,
    SOURCES,
    engine_class,
    engine_commands,
    open_engine,
    open_source,
)
from orchestration.runtime.engines.base import EngineNotRunning
from orchestration.runtime.run_tags import FULL_REFRESH_TAG, STARTED_BY_TAG, process_tags
from orchestration.settings import (
    PROJECT_ROOT,
    Settings,
    dagster_home,
    subprocess_environment,
    warehouse_config,
)


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


def run_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """What a run reads and writes: its flags over environment variables over defaults."""
    return Settings.from_env(
        environ,
        export_uri=getattr(args, "export_uri", None),
        warehouse_path=getattr(args, "warehouse_path", None),
        engine=getattr(args, "engine", None),
        source=getattr(args, "source", None),
    )


def run_config(args: argparse.Namespace) -> dict:
    """The run's config: Dagster's console logger quiet (the progress lines show warnings and
    errors), and the flags as the resources' config (paths, never secrets: run config is stored)."""
    overrides = {}
    if getattr(args, "export_uri", None):
        overrides["export_uri"] = args.export_uri
    if getattr(args, "warehouse_path", None):
        overrides["warehouse_path"] = str(Path(args.warehouse_path).absolute())
    if getattr(args, "engine", None):
        overrides["engine"] = args.engine
    if getattr(args, "source", None):
        overrides["source"] = args.source
    config: dict = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if overrides:
        # A resource's config is given whole: Dagster asks for every field once one is given.
        warehouse = warehouse_config(**overrides)
        config["resources"] = {
            "warehouse": {"config": warehouse},
            "published": {"config": {k: warehouse[k] for k in ("warehouse_path", "engine")}},
        }
    return config


UI_STOP_GRACE_SECONDS = 20


def run_tags(args: argparse.Namespace) -> dict[str, str]:
    tags = {STARTED_BY_TAG: "cli", **process_tags()}
    if getattr(args, "full_refresh", False):
        tags[FULL_REFRESH_TAG] = "true"
    return tags


def ui_command(args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "dev",
        "-m", "orchestration.definitions",
        "-h", args.host, "-p", str(args.port),
    ]  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    try:
        settings = run_settings(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    source, engine = open_source(settings), open_engine(settings)
    if (error := source.preflight_error()) is not None:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.monotonic()
    # Files a source knows only when its run asks (a pull), or an engine that cannot tell before
    # a run (it needs a server), leave the skip to the run's dbt asset, which skips the same way.
    files = source.files_before_run()
    if files is not None and not args.full_refresh and engine.nothing_new(files):
        print(
            f"Nothing new in {source.describe()} since the published build, and the dbt project "
            f"is unchanged: no run started. {engine.describe()} is current.\n"
            "(A run that Dagster starts, by schedule, sensor or UI, skips dbt and publishing "
            "the same way; --full-refresh rebuilds.)"
        )
        return 0

    if (short := engine.disk_shortfall(files, full_refresh=args.full_refresh)) is not None:
        print(f"error: {short}", file=sys.stderr)
        return 2

    from orchestration.cli.progress import ProgressPrinter
    from orchestration.cli.summary import render, summarize
    from orchestration.defs import dbt_project
    from orchestration.runtime.event_log import open_instance

    dbt_project.prepare(settings)
    from orchestration.definitions import defs
    from orchestration.defs.automation import STIGG_ELT_JOB

    job = defs().resolve_job_def(STIGG_ELT_JOB)
    # The modules and the definitions live until the process exits: frozen, the collector's full
    # passes during the run skip them, and so does its last pass as the interpreter exits (with
    # them it took about a second, after the run had ended).
    gc.freeze()
    run_id = str(uuid.uuid4())
    print(f"Run {run_id}: {source.describe()} → {engine.describe()}", flush=True)
    for note in engine.run_notes():
        print(note, flush=True)
    home = dagster_home()
    dbt_output = contextlib.nullcontext() if args.verbose else _stdout_discarded()
    with (
        open_instance(home) as instance,
        ProgressPrinter(instance, run_id, sys.stdout),
        dbt_output,
    ):
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config=run_config(args),
            tags=run_tags(args),
        )
    summary = summarize(result, time.monotonic() - started)
    print(render(summary, source.describe()))
    return 1 if summary.alert else 0


@contextlib.contextmanager
def _stdout_discarded():
    """dagster-dbt echoes every dbt log line to stdout; dbt keeps them in its own log file."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield


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


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it resolves to who knows what


def ui_exposure(host: str, acknowledged: bool) -> tuple[str | None, bool]:
    """(a warning to print, whether to refuse) for serving the UI on `host`."""
    if is_loopback(host):
        return None, False
    warning = (
        f"The Dagster UI has no authentication: on --host {host} anyone who can reach this "
        "machine's port can start and cancel runs, turn schedules on, and read every run's logs "
        "and metadata. Keep it on 127.0.0.1 and reach it through an SSH tunnel "
        "(ssh -L 3000:127.0.0.1:3000 <host>) or a proxy that authenticates."
    )
    if acknowledged:
        return f"warning: {warning}", False
    return f"error: {warning} To serve it there anyway, add --i-know-it-is-open.", True


def _ui(args: argparse.Namespace) -> int:
    warning, refuse = ui_exposure(args.host, args.i_know_it_is_open)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if refuse:
        return 2
    from orchestration.defs import dbt_project
    from orchestration.runtime.event_log import open_instance

    dbt_project.prepare()  # before the code server loads the definitions
    home = dagster_home()
    with open_instance(home):  # its databases made here, before Dagster's processes open them
        pass
    env = subprocess_environment(home)
    print(f"Dagster UI: http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    # Its own session, so stopping it reaches every process it starts (webserver, daemon, code
    # servers, run workers), with default signal handling even if ours was inherited as ignored.
    process = subprocess.Popen(
        ui_command(args),
        env=env,
        cwd=PROJECT_ROOT,
        start_new_session=True,
        preexec_fn=_default_stop_signals,
    )
    stop_deadline: float | None = None

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_deadline
        if stop_deadline is None:
            print("Stopping the Dagster UI…", flush=True)
            stop_deadline = time.monotonic() + UI_STOP_GRACE_SECONDS
        _signal_group(process.pid, signal.SIGINT)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while process.poll() is None:
            if stop_deadline is not None and time.monotonic() > stop_deadline:
                _signal_group(process.pid, signal.SIGKILL)  # it did not stop in time
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
    finally:
        _signal_group(process.pid, signal.SIGKILL)  # anything of its session still left
    return 0 if stop_deadline is not None else process.returncode


def _default_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


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

    settings = run_settings(args)
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
        "run": _run,
        "generate": _generate,
        "ui": _ui,
        "report": _report,
        "codegen": _codegen,
        **{command.name: command.run for command in engine_commands()},
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
