"""`stigg-warehouse run`: the run's pre-flight rules (the source's, the engine's), then one Dagster
run in this process. Its arguments become settings and run config by pure functions
(`run_settings`, `run_config`, `run_tags`) that plain pytest tests; Dagster is imported only
once a run starts."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from orchestration.registry import open_engine, open_source
from orchestration.runtime.run_tags import FULL_REFRESH_TAG, STARTED_BY_TAG, process_tags
from orchestration.settings import Settings, dagster_home, warehouse_config


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


def run_tags(args: argparse.Namespace) -> dict[str, str]:
    tags = {STARTED_BY_TAG: "cli", **process_tags()}
    if getattr(args, "full_refresh", False):
        tags[FULL_REFRESH_TAG] = "true"
    return tags


def run(args: argparse.Namespace) -> int:
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
