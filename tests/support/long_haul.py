"""The long haul: an export's transfers arrive one by one in object storage, and each is landed by
its own run, read through the fault-injecting proxy (tests/support/s3_fault_proxy.py). Now and then the
store fails (mended by the retries, or once past them, so that one file fails and the next run
lands it), and at random transfers a run is SIGKILLed while it lands, builds or publishes, then
run again. One kill is of the CLI alone while dbt builds, and its run is restarted at once, while
the orphaned dbt still holds the working copy.

Used by tests/faults/test_long_haul.py (the S preset) and benchmarks/run.py (`--long-haul`, M).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from orchestration.settings import Settings
from tests.support.runs import WatchedRun, in_session, run_cli
from tests.support.s3 import upload_to_s3
from tests.support.s3_fault_proxy import S3Fault, S3FaultProxy, in_request, s3_run_env
from tests.support.warehouse import query

BUCKET, PREFIX = "stigg-long-haul", "acme/prod"
MENDED = ("503", "500", "reset", "truncate", "stall")
KILL_POINTS = ("landing", "dbt", "publishing")


@dataclass
class HaulFigures:
    transfers: int = 0
    runs: int = 0  # every run started, killed ones included
    kills: Counter = field(default_factory=Counter)
    restarted: bool = False  # the run after the kill of the CLI alone while its dbt ran
    restart_waited: bool = False  # ... found that dbt still running, and waited for it
    orphan_seconds: float = 0.0  # how long that dbt ran on beside the restarted run
    faults: Counter = field(default_factory=Counter)  # injected, by kind
    failed_files: list[str] = field(default_factory=list)  # past the retries, landed next run
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"long haul: {self.transfers} transfers, {self.runs} runs, "
            f"{sum(self.kills.values())} kills ({dict(sorted(self.kills.items()))}), "
            f"one restarted at once after its CLI alone was killed during dbt ("
            + (
                f"it waited {self.orphan_seconds:.1f}s for the orphaned dbt"
                if self.restart_waited
                else "no dbt of it was left running"
            )
            + "), "
            f"{sum(self.faults.values())} S3 faults injected ({dict(sorted(self.faults.items()))}), "
            f"{len(self.failed_files)} file failed past the retries and landed by the next run; "
            f"{self.seconds:.0f}s"
        )


def s3_env(base: dict[str, str], endpoint: str, warehouse: Path, dagster_home: Path) -> dict:
    return s3_run_env(base, endpoint, f"s3://{BUCKET}/{PREFIX}", warehouse, dagster_home)


def _landed(warehouse: Path) -> int:
    if not warehouse.exists():
        return 0
    sql = "SELECT count(*) FROM meta.landed_files WHERE status = 'landed'"
    return query(warehouse, sql)[0][0]


def _running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` that still run (neither gone nor a zombie)."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def _left_running(session: int) -> list[psutil.Process]:
    """The processes of a killed CLI's session that still run: the dbt it left building."""
    processes = []
    for pid in in_session(session):
        with contextlib.suppress(psutil.Error):
            processes.append(psutil.Process(pid))
    return _running(processes)


def _holds(processes: list[psutil.Process], working_copy: Path) -> bool:
    """Whether one of `processes` has the working copy (or its WAL) open."""
    for process in _running(processes):
        with contextlib.suppress(psutil.Error):
            if any(f.path.startswith(str(working_copy)) for f in process.open_files()):
                return True
    return False


def _restart_beside(orphans: list[psutil.Process], env: dict, figures: HaulFigures) -> tuple:
    """The run restarted at once beside the dbt that its killed CLI left building: it must not
    land while that dbt still has the working copy open. (A dbt that has closed the file may still
    run a moment, writing its own run results; that is no hazard.) (exit code, output)"""
    working_copy = Settings.from_env(env).build_path
    started = time.monotonic()
    run = WatchedRun(env)
    while run.process.poll() is None and run.phase == "starting" and _running(orphans):
        time.sleep(0.01)
    figures.orphan_seconds = time.monotonic() - started
    landed_beside_orphan = False
    while run.process.poll() is None and _running(orphans) and not landed_beside_orphan:
        landed_beside_orphan = run.phase != "starting" and _holds(orphans, working_copy)
        time.sleep(0.01)
    code = run.process.wait()
    output = "".join(run.lines)
    assert not landed_beside_orphan, (
        "the restart landed while the orphaned dbt had the working copy open"
    )
    figures.restarted = True
    figures.restart_waited = "Waiting for" in output
    return code, output


def _mended_faults(rng: random.Random, full: Path, day: str) -> list[S3Fault]:
    """One or two faults on this transfer's files (or a listing) that the retries mend."""
    models = sorted({p.parent.parent.name for p in full.glob(f"*/{day}/*")})
    faults = []
    for kind in rng.sample(MENDED, rng.choice((1, 2))):
        model = rng.choice(models)
        if kind == "truncate":
            faults.append(S3Fault("truncate", "GET", in_request(f"{PREFIX}/{model}")))
        else:
            faults.append(S3Fault(kind, "GET", f"/{model}/{in_request(day)}/", seconds=3))
    return faults


def run_long_haul(
    full: Path, work: Path, s3_server: str, base_env: dict[str, str], *, seed: int, kills: int = 6
) -> tuple[Path, HaulFigures]:
    """Land `full`'s transfers one run each, with the faults and kills above; the warehouse and
    the figures. Every run but the killed ones and the one past the retries must exit 0."""
    started = time.monotonic()
    rng = random.Random(seed)
    days = sorted({p.parent.name for p in full.rglob("dt=*/*")})
    middle = list(range(1, len(days) - 1))  # the first and the last transfer land plainly
    kill_at = dict(zip(sorted(rng.sample(middle, kills)), KILL_POINTS * kills, strict=False))
    calm = [i for i in middle if i not in kill_at]
    past_retries_at = rng.choice(calm)
    faulty_at = set(rng.sample([i for i in calm if i != past_retries_at], len(days) // 4))

    warehouse = work / "haul" / "stigg_warehouse.duckdb"
    figures = HaulFigures(transfers=len(days))
    files_so_far = 0
    pending: list[str] = []  # kills still to place

    def env_for(proxy: S3FaultProxy) -> dict:
        return s3_env(base_env, proxy.url, warehouse, work / "haul_home")

    for i, day in enumerate(days):
        arriving = sorted(full.glob(f"*/{day}/*"))
        upload_to_s3(s3_server, BUCKET, PREFIX, full, arriving)
        files_so_far += len(arriving)
        orphans: list[psutil.Process] | None = None  # what a CLI killed alone left running
        if i in kill_at:
            pending.append(kill_at[i])
        # A carried kill waits for a transfer without faults: a killed run that got past landing
        # would leave the faulted files landed, and the faults would never be met.
        if pending and i < len(days) - 1 and i not in faulty_at and i != past_retries_at:
            point = pending[0]
            published = _landed(warehouse)
            with S3FaultProxy(s3_server) as proxy:
                run = WatchedRun(env_for(proxy))
                figures.runs += 1
                # The kill of the CLI alone comes early in dbt, once dbt has started, so that
                # its dbt is left running.
                whole_group = not (point == "dbt" and not figures.restarted)
                longest = {"landing": 0.3, "dbt": 6.0 if whole_group else 1.0}.get(point, 0.0)
                once = None if whole_group else run.has_dbt_running
                phase = run.kill_during(point, rng.uniform(0, longest), whole_group, once)
                if phase is not None:
                    figures.kills[phase] += 1
                    pending.pop(0)
                    if not whole_group:
                        orphans = _left_running(run.process.pid)
                        assert orphans, "the CLI was killed alone, but no dbt of it ran on"
                else:  # the run ended first: the kill is tried again at the next transfer
                    assert run.process.wait() == 0, "".join(run.lines)[-3000:]
                # Readable, and still the state published before (or this run's, if it got there).
                assert _landed(warehouse) in (published, files_so_far)
        faults = _mended_faults(rng, full, day) if i in faulty_at else []
        if i == past_retries_at:
            blamed = sorted(full.glob(f"*/{day}/*"))[0].relative_to(full).as_posix()
            faults = [S3Fault("500", "GET", "/" + in_request(blamed).replace("%2F", "/"))] * 200
        with S3FaultProxy(s3_server, faults=list(faults)) as proxy:
            if orphans is not None:
                code, output = _restart_beside(orphans, env_for(proxy), figures)
            else:
                result = run_cli(["run"], env_for(proxy))
                code, output = result.returncode, result.stdout + result.stderr
            figures.runs += 1
            for kind, count in proxy.served.items():
                figures.faults[kind] += count
            if i == past_retries_at:
                assert code == 1, output[-3000:]
                assert f"FAILED FILE {blamed}" in output, output[-3000:]
                figures.failed_files.append(blamed)
            else:
                assert code == 0, output[-3000:]
                assert proxy.faults == [], f"faults not injected: {proxy.faults}"
    figures.seconds = time.monotonic() - started
    return warehouse, figures
