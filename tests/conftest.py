from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import clean_env, moto_server, run_cli


@pytest.fixture(scope="session", autouse=True)
def prepared_dbt_project() -> None:
    """The dbt project parsed once (`dbt parse` if the manifest is stale), as `stigg-warehouse
    run` and CI prepare it: loading the definitions never does."""
    from orchestration.defs import dbt_project

    dbt_project.prepare()


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    """A small generated export: 40 customers, 2 environments, 3 transfers."""
    out = tmp_path / "export"
    generate_export(out, ExportConfig(customers=40, seed=11, transfers=3, events_per_customer=2))
    return out


@pytest.fixture
def pipeline_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a `stigg-warehouse` subprocess with its own warehouse and Dagster home."""
    return clean_env(
        STIGG_WAREHOUSE_PATH=str(tmp_path / "wh" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )


@pytest.fixture
def s3_server() -> Iterator[str]:
    """A real S3-compatible server (moto) on 127.0.0.1, empty; yields its endpoint URL."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The sample export, built and published once for the session (with its report). Tests read it
    or copy it; none may change it."""
    root = tmp_path_factory.mktemp("sample")
    env = clean_env(
        STIGG_WAREHOUSE_PATH=str(root / "wh" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    result = run_cli(["run"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    return Path(env["STIGG_WAREHOUSE_PATH"]), env
