"""`stigg-warehouse ui`: the Dagster UI (webserver, daemon, code server) on loopback, supervised
until Ctrl-C stops every process it started."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time

from orchestration.settings import PROJECT_ROOT, dagster_home, subprocess_environment

UI_STOP_GRACE_SECONDS = 20


def ui_command(args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "dev",
        "-m", "orchestration.definitions",
        "-h", args.host, "-p", str(args.port),
    ]  # fmt: skip


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


def run(args: argparse.Namespace) -> int:
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
