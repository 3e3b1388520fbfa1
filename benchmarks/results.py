"""The results files (benchmarks/results*.json): the figures, with the date, the commit and the
machine they are of."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from orchestration.settings import PROJECT_ROOT

RESULTS_DIR = PROJECT_ROOT / "benchmarks"


def write_results(name: str, directory: Path = RESULTS_DIR, **figures: object) -> str:
    """<directory>/<name> (benchmarks/ unless told): the figures, with the date, the commit and the
    machine they are of. The file's path, relative to the project where it is in it."""
    out = directory / name
    stamp = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**stamp, "machine": machine(), **figures}, indent=2))
    resolved = out.resolve()
    return str(resolved.relative_to(PROJECT_ROOT) if resolved.is_relative_to(PROJECT_ROOT) else out)


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}"


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    # --no-optional-locks: only read, never refresh the index of a checkout others work in.
    dirty = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
