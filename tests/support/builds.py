"""Warehouses built once for a whole test run, across pytest-xdist workers, and handed to tests
as they are (to read) or as copies (to change)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from tests.support.runs import clean_env, run_cli


class BuildCache:
    """Folders built once per test run: the first worker to ask builds, the others wait for it
    and find the folder built. A build that fails is not kept; the next to ask tries again."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, name: str, build: Callable[[Path], None]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / name
        with FileLock(str(self.root / f"{name}.lock")):
            if not (folder / ".built").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                build(folder)
                (folder / ".built").touch()
        return folder


def copy_folder(source: Path, destination: Path) -> Path:
    """A copy of a built folder that a test may change; files keep their mtimes, so an export's
    files keep the fingerprints its manifest recorded."""
    shutil.copytree(source, destination, symlinks=True, ignore=shutil.ignore_patterns(".built"))
    return destination


def warehouse_env(folder: Path, **values: str) -> dict[str, str]:
    """The environment of a run whose warehouse and Dagster home are in `folder`."""
    return clean_env(
        STIGG_WAREHOUSE_PATH=str(folder / "wh" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(folder / "dagster_home"),
        **values,
    )


@dataclass(frozen=True)
class SampleBuild:
    warehouse: Path
    env: dict[str, str]
    output: str  # what `stigg-warehouse run` printed


def build_sample(cache: BuildCache) -> SampleBuild:
    """The bundled sample export, built by `stigg-warehouse run` once per test run."""

    def build(folder: Path) -> None:
        result = run_cli(["run"], warehouse_env(folder))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        (folder / "output.txt").write_text(result.stdout)

    folder = cache.folder("sample", build)
    env = warehouse_env(folder)
    return SampleBuild(Path(env["STIGG_WAREHOUSE_PATH"]), env, (folder / "output.txt").read_text())


@dataclass(frozen=True)
class TransfersBuild:
    """A generated export's first three transfers, built and published once per test run, and
    the same export with its fourth transfer (`later`), to arrive in a test's copy."""

    folder: Path

    @property
    def later(self) -> Path:
        return self.folder / "later"

    def copy(self, destination: Path) -> dict[str, str]:
        """A copy of the published warehouse and its export, for a test to change: the
        environment of a run on it (its own Dagster home, made)."""
        copy_folder(self.folder / "wh", destination / "wh")
        export = copy_folder(self.folder / "export", destination / "export")
        env = warehouse_env(destination, STIGG_EXPORT_URI=str(export))
        Path(env["DAGSTER_HOME"]).mkdir()
        return env


def build_three_transfers(cache: BuildCache) -> TransfersBuild:
    """30 customers in three transfers (seed 21), published by one `stigg-warehouse run`."""

    def build(folder: Path) -> None:
        from orchestration.synthetic.sample_export import ExportConfig, generate_export

        generate_export(folder / "export", ExportConfig(customers=30, seed=21, transfers=3))
        generate_export(folder / "later", ExportConfig(customers=30, seed=21, transfers=4))
        env = warehouse_env(folder, STIGG_EXPORT_URI=str(folder / "export"))
        result = run_cli(["run"], env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    return TransfersBuild(cache.folder("three_transfers", build))
