"""The suite's tiers, its one switch (`--tier`), the machine-alone lock, the seed of sampled
tests, and the fixtures several folders share.

A test's tier is its marks: no mark is `fast` (no pipeline run, no server); `slow` is `default`;
`ci` and `soak` say so. Each tier runs its own tests and every tier below it (README,
"Development").
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support import tiers
from tests.support.builds import (
    BuildCache,
    SampleBuild,
    TransfersBuild,
    build_sample,
    build_three_transfers,
)
from tests.support.paths import remove_dbt_folders_of_warehouses_under
from tests.support.runs import clean_env
from tests.support.s3 import moto_server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stigg-warehouse")
    group.addoption(
        "--tier",
        choices=tiers.TIERS,
        default="default",
        help="which tests run: fast, default (the README's), ci (.ci/run's) or soak; each holds "
        "the ones before it",
    )
    group.addoption(
        "--seed",
        type=int,
        default=None,
        help="the seed of the sampled tests (kill points, faults); random unless given, and "
        "printed in the header so that a run can be replayed",
    )


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)
    if worker is not None:  # an xdist worker: the controller chose the seed
        config.stigg_seed = worker["stigg_seed"]
    else:
        seed = config.getoption("--seed")
        config.stigg_seed = seed if seed is not None else random.SystemRandom().randrange(10**6)


def pytest_configure_node(node) -> None:
    """xdist: every worker samples with the controller's seed."""
    node.workerinput["stigg_seed"] = node.config.stigg_seed


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"tier: {config.getoption('--tier')} ({tiers.DESCRIPTIONS[config.getoption('--tier')]})",
        f"seed: {config.stigg_seed} (replay with --seed {config.stigg_seed})",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.getoption("--tier")
    selected, deselected = [], []
    for item in items:
        (selected if tiers.runs_in(tiers.tier_of(item), chosen) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    # Modules with a test that must be alone first, while no long test holds the other worker;
    # then the longest modules, so that the two workers end together (xdist hands out modules
    # in this order).
    alone = {item.path for item in selected if tiers.is_alone(item)}
    items[:] = sorted(selected, key=lambda item: (item.path not in alone, tiers.start_order(item)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """A test marked `alone` runs with no other test beside it on the other worker. The JUnit XML
    records when each test started, on which worker, and how long it waited for the machine."""
    asked = time.time()
    with tiers.machine_share(item.config, alone=tiers.is_alone(item)):
        started = time.time()
        worker = getattr(item.config, "workerinput", {}).get("workerid", "main")
        item.user_properties += [
            ("worker", worker),
            ("started_at", f"{started:.1f}"),
            ("waited_for_the_machine_seconds", f"{started - asked:.1f}"),
        ]
        return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Once every worker has ended: the dbt folders of the run's warehouses, which all lived
    under its temporary root, go with them (each is tens of MB, in the project's dbt target)."""
    if getattr(session.config, "workerinput", None) is None:
        remove_dbt_folders_of_warehouses_under(session.config._tmp_path_factory.getbasetemp())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.write_line(tiers.closing_line(config.getoption("--tier"), config.stigg_seed))


@pytest.fixture(scope="session")
def seed(request: pytest.FixtureRequest) -> int:
    """The run's seed for sampled tests (`--seed`, or random and printed in the header)."""
    return request.config.stigg_seed


@pytest.fixture(scope="session", autouse=True)
def prepared_dbt_project() -> None:
    """The dbt project parsed once (`dbt parse` if the manifest is stale), as `stigg-warehouse
    run` and CI prepare it: loading the definitions never does."""
    from orchestration.defs import dbt_project

    dbt_project.prepare()


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> BuildCache:
    """Warehouses built once for the whole run, whichever worker asks first."""
    base = tmp_path_factory.getbasetemp()
    return BuildCache((base.parent if worker_id != "master" else base) / "built")


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
def sample_build(build_cache: BuildCache) -> SampleBuild:
    """The bundled sample export, built and published once for the whole run (with its report),
    and what its run printed. Tests read it or copy it; none may change it."""
    return build_sample(build_cache)


@pytest.fixture(scope="session")
def sample_warehouse(sample_build: SampleBuild) -> tuple[Path, dict[str, str]]:
    """The sample's published warehouse and the environment of the run that built it."""
    return sample_build.warehouse, sample_build.env


@pytest.fixture(scope="session")
def three_transfers_build(build_cache: BuildCache) -> TransfersBuild:
    """A small export's three transfers, published once for the whole run, its fourth beside it;
    tests take copies (`.copy(tmp_path)`)."""
    return build_three_transfers(build_cache)
