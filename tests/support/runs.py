"""Running the pipeline and dbt as a user does (fresh processes), and feeding an export its transfers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def run_cli(
    args: list[str], env: dict[str, str], timeout: int = 1800
) -> subprocess.CompletedProcess:
    """The real console script's code, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclasses.dataclass
class DbtResult:
    """What an in-process dbt invocation did: dbt's exit code (0 success, 1 a node or test failed,
    2 dbt itself failed), its log lines as the CLI prints them, and its events."""

    returncode: int
    stdout: str
    events: list = dataclasses.field(repr=False)

    def event_data(self, name: str) -> list[dict]:
        """The data of each event named `name` (ShowNode, LogTestResult, ...), as dicts."""
        from google.protobuf.json_format import MessageToDict

        return [MessageToDict(e.data) for e in self.events if e.info.name == name]


def run_dbt(
    args: list[str],
    database: Path | None,
    tmp_path: Path,
    environment: dict[str, str] | None = None,
    **variables: str,
) -> DbtResult:
    """dbt alone against `database` (as docs/architecture.md's "dbt alone" says), in this process with
    dbt's programmatic runner: no interpreter to start and no dbt to import again. `environment`
    is set for the invocation's length (dbt reads env_var() then)."""
    from dbt.cli.main import dbtRunner

    events: list = []
    database_var = {"stigg_database_path": str(database)} if database is not None else {}
    invocation = [
        "--no-use-colors", *args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROJECT_ROOT),
        "--vars", json.dumps({**database_var, **variables}),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    with contextlib.chdir(DBT_PROJECT_DIR), temporary_environment(environment or {}):
        outcome = dbtRunner(callbacks=[events.append]).invoke(invocation)
    lines = [e.info.msg for e in events if e.info.level in ("info", "warn", "error")]
    returncode = 0 if outcome.success else 2 if outcome.exception is not None else 1
    return DbtResult(returncode, "\n".join(lines), events)


@contextlib.contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """This process's environment with `values` set; afterwards, the environment it had before,
    whatever the code in between changed."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def copy_transfers(full: Path, export: Path, days: set[str]) -> None:
    """The files of the transfers whose `dt=` folder is in `days`, from `full` into `export`."""
    for data_file in full.rglob("*"):
        if data_file.is_file() and data_file.parent.name in days:
            target = export / data_file.relative_to(full)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(data_file, target)


def copy_new_files(later: Path, export: Path) -> list[str]:
    """Copy the files of `later` that `export` lacks (the next transfer); their paths, sorted."""
    new = sorted(
        p.relative_to(later).as_posix()
        for p in later.rglob("*")
        if p.is_file() and not (export / p.relative_to(later)).exists()
    )
    for relative in new:
        (export / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(later / relative, export / relative)  # keeps mtime: the same fingerprint
    return new


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without STIGG_ and DAGSTER_ variables, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    env.update(values)
    return env


class WatchedRun:
    """`stigg-warehouse run` in its own session, with the step it is in, from its progress lines."""

    def __init__(self, env: dict[str, str], *extra_args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "run", *extra_args],
            env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        self.phase = "starting"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("▸ landing"):
                self.phase = "landing"
            elif line.startswith("▸ dbt"):
                self.phase = "dbt"
            elif line.startswith("▸ publishing"):
                self.phase = "publishing"

    def wait_for_phase(self, phase: str, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while self.phase != phase and self.process.poll() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return self.phase == phase

    def kill_during(
        self,
        phase: str,
        delay: float,
        whole_group: bool,
        once: Callable[[], bool] | None = None,
    ) -> str | None:
        """SIGKILL the run `delay` seconds into `phase` (counted from when `once()` holds, if
        given); the step it was in when the signal went, or None if the run ended first."""
        if not self.wait_for_phase(phase):
            return None
        while once is not None and not once():
            if self.process.poll() is not None:
                return None
            time.sleep(0.01)
        time.sleep(delay)
        if self.process.poll() is not None:
            return None
        killed_in = self.phase
        self.kill(whole_group)
        return killed_in

    def run_ids(self) -> list[str]:
        """The Dagster run ids the CLI printed (`Run <id>: ...`), once its output has ended."""
        self._reader.join(timeout=30)
        return [
            line.split()[1].rstrip(":")
            for line in self.lines
            if re.match(r"Run [0-9a-f-]{36}:", line)
        ]

    def has_dbt_running(self) -> bool:
        """Whether the run's dbt subprocess has started and still runs."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return False
        for child in children:
            with contextlib.suppress(psutil.Error):  # a child that ended while it was looked at
                if child.is_running() and "dbt" in " ".join(child.cmdline()):
                    return True
        return False

    def kill(self, whole_group: bool) -> None:
        if whole_group:  # the machine dies: the CLI and its dbt subprocess
            os.killpg(self.process.pid, signal.SIGKILL)
        else:  # `kill -9 <pid>`: dbt, if running, is left to finish on its own
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def in_session(sid: int) -> list[int]:
    """The pids of every process in session `sid` (zombies too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found
