"""A full disk: the warehouse folder on a small tmpfs that the test mounts, filled up while a run
lands and while dbt builds. Each time the run fails saying that the disk is full and where, the
published warehouse is unchanged and readable, and once space is freed the next run completes.
A run that cannot have the space it needs says so before it starts. A disk filled as dbt ends
does not stop publishing, which writes no copy, and the result equals a clean build."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from orchestration.runtime.engines.duckdb import disk
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.machine import mounted_tmpfs, needs_root
from tests.support.runs import copy_new_files, copy_transfers, run_cli
from tests.support.warehouse import query, table_checksums

# A tmpfs of its own and a disk high-water mark: the machine to itself.
pytestmark = [pytest.mark.slow, pytest.mark.ci, pytest.mark.alone, needs_root]
DISK_MB = 96


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "small_disk", DISK_MB) as mount_point:
        yield mount_point


def _fill(disk: Path, leave_bytes: int = 0) -> Path:
    """Take the disk's free space, all but `leave_bytes`, with one file."""
    filler = disk / "filler"
    size = max(shutil.disk_usage(disk).free - leave_bytes, 1)
    with open(filler, "ab") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, size)
        except OSError:  # the last block's bookkeeping: a little less then
            os.posix_fallocate(handle.fileno(), 0, max(size - 65536, 1))
    return filler


def _dbt_is_building(warehouse: Path) -> bool:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "dbt" in cmdline and " build" in cmdline and str(warehouse.parent) in cmdline:
            return True
    return False


def _run_filling_at(
    env: dict,
    disk: Path,
    trigger: Callable[[], bool],
    leave: int,
    on_filled: Callable[[], None] = lambda: None,
) -> tuple:
    """A run, and the disk filled the moment `trigger()` holds (then `on_filled()`); (result
    code, output)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"], env=env, cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    filled = False
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        if not filled and trigger():
            _fill(disk, leave)
            on_filled()
            filled = True
        time.sleep(0.01)
    output = process.communicate(timeout=600)[0]
    assert filled, "the run ended before the disk could be filled:\n" + output[-3000:]
    return process.returncode, output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_full_disk_changes_nothing_readers_see_and_publishing_needs_no_room(
    tmp_path, small_disk, pipeline_env
):
    full, export = tmp_path / "full", tmp_path / "export"
    generate_export(full, ExportConfig(customers=120, seed=23, transfers=3))
    copy_transfers(full, export, set(sorted({p.parent.name for p in full.rglob("dt=*/*")})[:-1]))

    clean_env = dict(pipeline_env, STIGG_EXPORT_URI=str(full),
                     STIGG_WAREHOUSE_PATH=str(tmp_path / "clean" / "stigg_warehouse.duckdb"),
                     DAGSTER_HOME=str(tmp_path / "clean_home"))  # fmt: skip
    assert run_cli(["run"], clean_env).returncode == 0
    clean = table_checksums(clean_env["STIGG_WAREHOUSE_PATH"])

    warehouse = small_disk / "wh" / "stigg_warehouse.duckdb"
    env = dict(pipeline_env, STIGG_EXPORT_URI=str(export), STIGG_WAREHOUSE_PATH=str(warehouse))
    first = run_cli(["run"], env)
    assert first.returncode == 0, first.stdout[-3000:]
    assert copy_new_files(full, export)  # the last transfer arrives
    build, build_wal = Settings.from_env(env).build_path, Settings.from_env(env).build_wal_path
    published = _digest(warehouse)
    dbt_seen: list[bool] = []

    def dbt_started() -> bool:
        return _dbt_is_building(warehouse)

    def dbt_finished() -> bool:
        if not dbt_seen and _dbt_is_building(warehouse):
            dbt_seen.append(True)
        return bool(dbt_seen) and not _dbt_is_building(warehouse)

    phases = [
        # Landing's first write into the working copy starts its WAL.
        ("landing", build_wal.exists, 0),
        ("the dbt build", dbt_started, 0),
    ]
    for during, trigger, leave in phases:
        code, output = _run_filling_at(env, small_disk, trigger, leave)
        assert code == 1, output[-3000:]
        assert f"The disk is full: {small_disk / 'wh'}" in output, output[-3000:]
        assert f"during {during}" in output, output[-3000:]
        assert "FAILED FILE" not in output  # the disk is blamed, never an export file
        assert _digest(warehouse) == published
        assert query(warehouse, "SELECT count(*) > 0 FROM stigg.CUSTOMERS") == [(True,)]
        assert not build.exists()  # the next run starts from the published warehouse
        (small_disk / "filler").unlink()

    # Not enough room to start: the run says so before it writes anything.
    _fill(small_disk, leave_bytes=disk.space_needed(Settings.from_env(env)).total // 2)
    refused = run_cli(["run"], env)
    assert refused.returncode == 2
    assert f"Not enough free disk space for a run in {small_disk / 'wh'}" in refused.stderr
    assert "the working copy" in refused.stderr
    assert not build.exists() and _digest(warehouse) == published
    (small_disk / "filler").unlink()

    # Publishing is a checkpoint and a rename, and writes no copy: a disk left with 2 MB as dbt
    # ends (room for the build's bookkeeping, far from the warehouse's size) does not stop it.
    assert warehouse.stat().st_size > 4 * 1024 * 1024
    unpublished = warehouse.stat().st_ino
    published_when_full: list[bool] = []
    code, output = _run_filling_at(
        env, small_disk, dbt_finished, 2 * 1024 * 1024,
        on_filled=lambda: published_when_full.append(warehouse.stat().st_ino != unpublished),
    )  # fmt: skip
    assert published_when_full == [False]  # the disk was full before the rename
    assert code == 0, output[-3000:]
    assert "The disk is full" not in output
    assert not build.exists()  # renamed into place
    assert table_checksums(warehouse) == clean
    (small_disk / "filler").unlink()

    final = run_cli(["run"], env)
    assert final.returncode == 0, final.stdout[-3000:]
    assert table_checksums(warehouse) == clean
