"""The pipeline with STIGG_SOURCE=api, end to end: `stigg-warehouse run` against the fake Stigg
API on loopback, which serves the records of the sample export's build, in two environments
with two keys. The documented tables equal the export's; a second pull is incremental and its
history shows the change; a record gone from a full pull stays; a pull killed midway and an API
that is down change nothing readers see, and the next run completes without a duplicate; a key
the API does not know fails at once; the keys (from a file) appear in no output or file."""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.spec.tables import TABLES
from tests.support.api import differences_from_export, records_of
from tests.support.fake_stigg_api import FakeStiggApi, Fault
from tests.support.leaks import files_containing
from tests.support.runs import clean_env, run_cli
from tests.support.warehouse import query

pytestmark = pytest.mark.slow

KEY_1 = "server-e2e-key-one-5f0c1d"
KEY_2 = "server-e2e-key-two-8a7b6e"
WRONG_KEY = "server-e2e-key-unknown-3c9d2a"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_killed_when(env: dict, ready, timeout: float = 300) -> None:
    """Start a run and SIGKILL its process group once `ready()` is true."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.poll() is None, "the run ended before the kill"
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class ApiRun:
    """The fake API serving the sample's records, and what a run against it needs."""

    fake: FakeStiggApi
    env: dict[str, str]
    warehouse: Path
    export_build: Path
    records: dict
    outputs: list[subprocess.CompletedProcess] = field(default_factory=list)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        result = run_cli(["run", *args], dict(self.env, **env))
        self.outputs.append(result)
        return result


@contextmanager
def _api_source(tmp_path: Path, sample_warehouse) -> Iterator[ApiRun]:
    """The fake Stigg API on loopback serving the records of the sample export's build, in two
    environments, and the environment of a run against it with the two keys in a file, one a
    line, as a secrets manager mounts them. The first key learns its environment from its
    records; the second says it."""
    export_build, _ = sample_warehouse
    records = records_of(export_build)
    env_1, env_2 = sorted(records)
    keys_file = tmp_path / "secrets" / "stigg_api_keys"
    keys_file.parent.mkdir()
    keys_file.write_text(f"{KEY_1}\n{env_2}={KEY_2}\n")
    with FakeStiggApi(keys={KEY_1: env_1, KEY_2: env_2}, records=records) as fake:
        env = clean_env(
            STIGG_WAREHOUSE_PATH=str(tmp_path / "wh" / "stigg_warehouse.duckdb"),
            DAGSTER_HOME=str(tmp_path / "dagster_home"),
            STIGG_SOURCE="api",
            STIGG_API_URL=fake.url,
            STIGG_API_KEYS_FILE=str(keys_file),
            STIGG_API_BACKOFF_SECONDS="0.05",
            STIGG_API_MAX_ATTEMPTS="3",
        )
        yield ApiRun(fake, env, Path(env["STIGG_WAREHOUSE_PATH"]), export_build, records)


def _first_pull(api: ApiRun) -> None:
    """The first pull: the 16 tables, equal to the export's, nothing rejected."""
    fake, warehouse, export_build = api.fake, api.warehouse, api.export_build
    first = api.run("--verbose")  # --verbose: dbt's own lines too
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert fake.invalid_documents == []
    assert differences_from_export(export_build, warehouse) == {}
    # IS_CUSTOM_PRICE_SUBSCRIPTION comes from a rule (pricingType CUSTOM), not a field, so the
    # comparison above leaves it out; in the sample it agrees with the export on every row.
    custom = (
        "SELECT SUBSCRIPTION_ID, IS_CUSTOM_PRICE_SUBSCRIPTION FROM stigg.SUBSCRIPTIONS ORDER BY 1"
    )
    assert query(warehouse, custom) == query(export_build, custom)
    rejected = query(
        warehouse,
        "SELECT " + " + ".join(f"(SELECT count(*) FROM rejects.{t.model})" for t in TABLES),
    )
    assert rejected == [(0,)]
    assert "dbt tests:" in first.stdout and " 0 failed" in first.stdout
    assert "USAGE_EVENTS_<ENV> stay empty" in first.stdout
    # No environment has an event, so no USAGE_EVENTS_<ENV> table; the union view is empty.
    assert query(warehouse, "SELECT count(*) FROM stigg.USAGE_EVENTS") == [(0,)]


def _no_key_leaked(api: ApiRun, tmp_path: Path) -> None:
    """The keys appear in no output, no run storage, no warehouse file, no pulled file, and no
    dbt artifact or log of the warehouse's runs (dbt's log of each is in its target folder)."""
    dbt_target = Settings.from_env(api.env).dbt_target_dir
    assert list(dbt_target.glob("stigg_dbt_models-*/dbt.log"))
    for key in (KEY_1, KEY_2, WRONG_KEY):
        for result in api.outputs:
            assert key not in result.stdout and key not in result.stderr
        for root in (tmp_path / "dagster_home", api.warehouse.parent, dbt_target):
            assert files_containing(root, key.encode()) == []


def test_an_api_pull_equals_the_export_a_wrong_key_fails_and_no_key_leaks(
    tmp_path, sample_warehouse
):
    with _api_source(tmp_path, sample_warehouse) as api:
        _first_pull(api)
        # A key the API does not know fails at once, named by its position, never shown.
        wrong = api.run(STIGG_API_KEYS=WRONG_KEY)
        assert wrong.returncode == 1 and "key 1 of 1" in wrong.stdout and "HTTP 401" in wrong.stdout
        assert set(api.fake.seen_keys) == {KEY_1, KEY_2, WRONG_KEY}  # every key did reach the API

    _no_key_leaked(api, tmp_path)


@pytest.mark.ci
def test_the_api_source_pulls_incrementally_and_survives_faults(tmp_path, sample_warehouse):
    with _api_source(tmp_path, sample_warehouse) as api:
        _first_pull(api)
        fake, env, warehouse, records = api.fake, api.env, api.warehouse, api.records
        export_build = api.export_build
        env_1, env_2 = sorted(records)
        watermark_2 = max(r["UPDATED_AT"] for r in records[env_2]["CUSTOMERS"])

        # 2. Stigg changes: a subscription is canceled, a customer renamed, a subscription gone.
        changed = copy.deepcopy(records)
        canceled = next(s for s in changed[env_1]["SUBSCRIPTIONS"] if s["STATUS"] == "ACTIVE")
        canceled["STATUS"] = "CANCELED"
        canceled["CANCELLATION_DATE"] = watermark_2
        renamed = changed[env_2]["CUSTOMERS"][0]
        renamed["NAME"] = "Renamed by the second pull"
        renamed["UPDATED_AT"] = watermark_2 + timedelta(hours=1)
        gone = changed[env_2]["SUBSCRIPTIONS"].pop()
        for nested in (
            "SUBSCRIPTION_PRICES",
            "SUBSCRIPTION_ADDONS",
            "SUBSCRIPTION_APPLIED_COUPONS",
        ):
            changed[env_2][nested] = [
                r for r in changed[env_2][nested] if r["SUBSCRIPTION_ID"] != gone["SUBSCRIPTION_ID"]
            ]
        fake.records = changed

        # 3. A pull killed midway: env 1's files are written, env 2's first list hangs.
        published = _digest(warehouse)
        fake.faults = [Fault("slow", "Customers", seconds=120, environment=env_2)]
        pulled = warehouse.parent / "stigg_warehouse_api_export" / "subscriptions"
        files_before = set(pulled.rglob("*.parquet"))
        _run_killed_when(
            dict(env, STIGG_API_TIMEOUT_SECONDS="300"),
            lambda: len(set(pulled.rglob("*.parquet")) - files_before) == 1,
        )
        assert _digest(warehouse) == published  # readers see nothing of it
        fake.faults = []

        # 4. The next run redoes the pull: incremental where it can, the change in history.
        requests_before = len(fake.requests)
        second = api.run()
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        customer_filters = [
            v["filter"]
            for e, op, v in fake.requests[requests_before:]
            if op == "Customers" and e == env_2
        ]
        overlap_start = (watermark_2 - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")
        assert len(customer_filters) == 1
        assert customer_filters[0]["updatedAt"]["gte"].startswith(overlap_start)
        assert query(
            warehouse,
            "SELECT NAME FROM stigg.CUSTOMERS WHERE ID = ?", [renamed["ID"]],
        ) == [("Renamed by the second pull",)]  # fmt: skip
        history = query(
            warehouse,
            "SELECT STATUS FROM analytics.subscription_history WHERE ID = ? ORDER BY valid_from",
            [canceled["ID"]],
        )
        assert history == [("ACTIVE",), ("CANCELED",)]
        # No record twice: the killed pull's files were deleted, its rows never landed.
        assert query(
            warehouse, "SELECT count(*) FROM raw.subscriptions WHERE id = ?", [canceled["ID"]]
        ) == [(2,)]
        # The gone subscription stays as last seen, counted in the summary and the check.
        assert query(
            warehouse, "SELECT STATUS FROM stigg.SUBSCRIPTIONS WHERE ID = ?", [gone["ID"]]
        ) == [(gone["STATUS"],)]
        assert "No longer listed by a full pull (kept as last seen):" in second.stdout
        assert "subscriptions 1" in second.stdout
        assert "raw/subscriptions:records_still_listed" in second.stdout
        changes = dict(
            query(
                warehouse,
                "SELECT model || ' ' || environment_id, records_changed FROM meta.api_pulls "
                "WHERE run_id = (SELECT max_by(run_id, pulled_at) FROM meta.api_pulls)",
            )
        )
        assert changes[f"customers {env_2}"] == 1
        assert changes[f"subscriptions {env_1}"] == 1
        assert changes[f"subscriptions {env_2}"] == 0
        assert differences_from_export(export_build, warehouse) != {}  # it moved on

        # 5. Nothing changed: the pull asks, writes nothing, and dbt and publishing are skipped.
        published = _digest(warehouse)
        third = api.run()
        assert third.returncode == 0, third.stdout[-3000:]
        assert "0 new or changed" in third.stdout
        assert "Published: nothing" in third.stdout
        assert _digest(warehouse) == published

        # 6. The API down past the retries: the run fails, names where, and changes nothing.
        fake.faults = [Fault("500")] * 50
        down = api.run()
        assert down.returncode == 1
        # Key 1 does not say its environment: the probe that would learn it is what fails.
        assert "key 1 of 2: EnvironmentProbe failed with HTTP 500 after 3 attempts" in down.stdout
        assert _digest(warehouse) == published
        fake.faults = []
        again = api.run()
        assert again.returncode == 0, again.stdout[-3000:]
    _no_key_leaked(api, tmp_path)
