"""`stigg-warehouse run` as a user starts it, in a fresh process: its environment, its wall time
and the RSS of its process tree, and where its seconds went (Dagster's step stats, dbt's
run_results.json)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from orchestration.settings import (
    DEFAULT_DAGSTER_HOME,
    PROJECT_ROOT,
    WAREHOUSE_VARIABLES,
    Settings,
    subprocess_environment,
)

# The Dagster step that lands the export (orchestration/defs/landing.py, asset `raw_export`).
LANDING_STEP = "raw_export"
# How `stigg-warehouse run` names its Dagster run when it starts one (orchestration/cli/run.py).
_RUN_LINE = re.compile(r"^Run ([0-9a-f-]{36}):", re.MULTILINE)


def variable(field: str) -> str:
    """The environment variable of a warehouse setting (orchestration/settings)."""
    return WAREHOUSE_VARIABLES[field][0]


def run_environment(work: Path, export: Path) -> dict[str, str]:
    """This process's environment with none of the project's or Dagster's own settings, but a
    warehouse and a Dagster instance (the project's dagster.yaml) of their own under `work`, for
    `export`. STIGG_DUCKDB_MEMORY_LIMIT is kept: the memory limit is a benchmark's parameter."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    home = work / "dagster_home"
    env = subprocess_environment(home, kept)
    env[variable("export_uri")] = str(export)
    env[variable("warehouse_path")] = str(work / "warehouse" / "stigg_warehouse.duckdb")
    if variable("duckdb_memory_limit") in os.environ:
        env[variable("duckdb_memory_limit")] = os.environ[variable("duckdb_memory_limit")]
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_DAGSTER_HOME / "dagster.yaml", home / "dagster.yaml")
    return env


def warehouse_path(env: dict[str, str]) -> Path:
    """The warehouse that runs in `env` publish, as the project reads its settings."""
    return Settings.from_env(env).warehouse_path


def stigg_warehouse() -> str:
    """The console script, installed beside this Python (as settings.dbt_executable finds dbt)."""
    return str(Path(sys.executable).parent / "stigg-warehouse")


@dataclass
class TimedRun:
    seconds: float
    peak_gib: float
    run_id: str | None
    samples: list[tuple[float, int]]  # (time.time(), summed RSS in bytes)


def timed_run(env: dict[str, str]) -> TimedRun:
    """`stigg-warehouse run` as a user starts it; wall time and the RSS of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        [stigg_warehouse(), "run"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    samples: list[tuple[float, int]] = []
    sampler = threading.Thread(target=_sample_rss, args=(process.pid, samples), daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    sampler.join(timeout=1)
    if process.returncode != 0:
        print(output[-5000:])
        raise SystemExit(f"stigg-warehouse run exited {process.returncode}")
    match = _RUN_LINE.search(output)
    peak = max((rss for _, rss in samples), default=0)
    return TimedRun(seconds, peak / 2**30, match.group(1) if match else None, samples)


def _sample_rss(pid: int, samples: list[tuple[float, int]]) -> None:
    try:
        root = psutil.Process(pid)
        while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            samples.append((time.time(), total))
            time.sleep(0.1)
    except psutil.Error:
        return


_PROFILE_CODE = """
import json, sys, dagster as dg
instance = dg.DagsterInstance.get()
stats = instance.get_run_stats(sys.argv[1])
steps = {s.step_key: [s.start_time, s.end_time] for s in instance.get_run_step_stats(sys.argv[1])}
print(json.dumps({"run": [stats.start_time, stats.end_time], "steps": steps}))
"""


def profile(env: dict[str, str], run: TimedRun) -> dict:
    """Where a run's seconds went: its steps, Dagster's own share, dbt by node; peak memory per step."""
    out = subprocess.run(
        [sys.executable, "-c", _PROFILE_CODE, run.run_id or ""],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    steps = {}
    for step, (start, end) in stats["steps"].items():
        window = [rss for t, rss in run.samples if start <= t <= end]
        steps[step] = {
            "seconds": round(end - start, 2),
            "peak_memory_gib": round(max(window, default=0) / 2**30, 2),
        }
    in_steps = sum(s["seconds"] for s in steps.values())
    return {
        "wall_seconds": round(run.seconds, 2),
        "steps": steps,
        # The CLI's process start, the definitions, the instance and its event writes outside
        # any step, and the summary.
        "outside_steps_seconds": round(run.seconds - in_steps, 2),
        "dbt": dbt_profile(env, run.run_id),
    }


def dbt_invocation(env: dict[str, str], run_id: str | None) -> Path | None:
    """The dbt target folder of the run's build, in its warehouse's dbt folder
    (Settings.dbt_target_dir), where the project names each `<asset>-<run id[:7]>-<uuid>`."""
    found = sorted(
        Settings.from_env(env).dbt_target_dir.glob(f"*-{(run_id or '')[:7]}-*/run_results.json")
    )
    return found[-1].parent if found else None


def dbt_profile(env: dict[str, str], run_id: str | None) -> dict:
    """dbt's share of a run by node (its run_results.json): seconds by kind, models by layer (the
    project's folder under models/, from the invocation's manifest), and the slowest nodes."""
    invocation = dbt_invocation(env, run_id)
    if invocation is None:
        return {}
    results = json.loads((invocation / "run_results.json").read_text())
    layers = _model_layers(invocation / "manifest.json")
    by_kind: dict[str, float] = {}
    for result in results["results"]:
        unique_id = result["unique_id"]
        kind = unique_id.split(".")[0]
        if kind == "model":
            kind = f"models {layers.get(unique_id, 'unknown')}"
        by_kind[kind] = round(by_kind.get(kind, 0) + result["execution_time"], 2)
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:8]
    return {
        "elapsed_seconds": round(results["elapsed_time"], 2),
        "nodes": len(results["results"]),
        "node_seconds_by_kind": by_kind,
        "slowest": [
            [r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2)] for r in slowest
        ],
    }


def _model_layers(manifest: Path) -> dict[str, str]:
    """Each model's layer: the folder under dbt_project/models/ that holds it (staging, stigg,
    rejects, analytics, meta), as dbt's fully qualified name has it."""
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text())["nodes"]
    return {
        unique_id: node["fqn"][1]
        for unique_id, node in nodes.items()
        if node["resource_type"] == "model" and len(node["fqn"]) > 2
    }
