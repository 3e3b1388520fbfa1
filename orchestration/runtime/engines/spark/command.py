"""`stigg-warehouse spark-server`: the local Spark Connect server in the foreground; runs, the UI
and readers use it while it runs."""

from __future__ import annotations

import argparse
import signal
import sys

name = "spark-server"


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        name,
        help=(
            "Run the local Spark Connect server in the foreground (STIGG_ENGINE=spark): runs, "
            "the UI and readers use it while it runs."
        ),
    )
    parser.add_argument(
        "--warehouse-path", help="Overrides STIGG_WAREHOUSE_PATH (its folder holds the server's)."
    )
    parser.add_argument("--port", type=int, default=15002)


def run(args: argparse.Namespace) -> int:
    from orchestration.runtime.engines.spark import server
    from orchestration.settings import Settings

    directory = Settings.from_env(warehouse_path=args.warehouse_path).spark_local_dir
    found = server.running_server(directory)
    if found is not None:
        print(f"A server is already running for {directory}: {found.remote} (pid {found.pid})")
        return 1
    try:
        started, process = server.start_server(directory, port=args.port)
    except server.SparkServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"Spark Connect server {started.remote} (pid {started.pid}), metastore and warehouse in "
        f"{directory}. Runs with STIGG_ENGINE=spark use it while it runs. Ctrl-C to stop.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _stop_on_signal)
    # Ctrl-C stops it even when started from a script that ignores SIGINT (a background job's).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("Stopping the Spark Connect server…", flush=True)
        return 0
    finally:
        server.stop(process)
        (directory / server.STATE_FILE).unlink(missing_ok=True)


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
