"""The pipeline with STIGG_SOURCE=api, end to end: `stigg-warehouse run` against the fake Stigg
API on loopback, which serves the records of the sample export's build, in two environments
with two keys. The documented tables equal the export's; a second pull is incremental and its
history shows the change; a record gone from a full pull stays; a pull killed midway and an API
that is down change nothing readers see, and the next run completes without a duplicate."""

from __future__ import annotations

import copy
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT
from orchestration.spec.tables import TABLES
from tests.api_helpers import differences_from_export, records_of
from tests.fake_stigg_api import FakeStiggApi, Fault
from tests.helpers import clean_env, query, run_cli

pytestmark = pytest.mark.slow

KEY_1 = "server-e2e-key-one-5f0c1d"
KEY_2 = "server-e2e-key-two-8a7b6e"


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


def test_the_api_source_builds_the_exports_tables_incrementally_and_survives_faults(
    tmp_path, sample_warehouse
):
    export_build, _ = sample_warehouse
    records = records_of(export_build)
    env_1, env_2 = sorted(records)
    warehouse = tmp_path / "wh" / "stigg_warehouse.duckdb"
    outputs: list[subprocess.CompletedProcess] = []
    with FakeStiggApi(keys={KEY_1: env_1, KEY_2: env_2}, records=records) as fake:
        env = clean_env(
            STIGG_WAREHOUSE_PATH=str(warehouse),
            DAGSTER_HOME=str(tmp_path / "dagster_home"),
            STIGG_SOURCE="api",
            STIGG_API_URL=fake.url,
            # The first key learns its environment from its records; the second says it.
            STIGG_API_KEYS=f"{KEY_1},{env_2}={KEY_2}",
            STIGG_API_BACKOFF_SECONDS="0.05",
            STIGG_API_MAX_ATTEMPTS="3",
        )

        # 1. The first pull: the 16 tables, equal to the export's, nothing rejected.
        first = run_cli(["run"], env)
        outputs.append(first)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert fake.invalid_documents == []
        assert differences_from_export(export_build, warehouse) == {}
        rejected = query(
            warehouse,
            "SELECT " + " + ".join(f"(SELECT count(*) FROM rejects.{t.model})" for t in TABLES),
        )
        assert rejected == [(0,)]
        assert "dbt tests:" in first.stdout and " 0 failed" in first.stdout
        assert "USAGE_EVENTS_<ENV> stay empty" in first.stdout
        # No environment has an event, so no USAGE_EVENTS_<ENV> table; the union view is empty.
        assert query(warehouse, "SELECT count(*) FROM stigg.USAGE_EVENTS") == [(0,)]
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
        fake.faults = [Fault("slow", "CustomerList", seconds=120, environment=env_2)]
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
        second = run_cli(["run"], env)
        outputs.append(second)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        customer_filters = [
            v["filter"]
            for e, op, v in fake.requests[requests_before:]
            if op == "CustomerList" and e == env_2
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
        third = run_cli(["run"], env)
        outputs.append(third)
        assert third.returncode == 0, third.stdout[-3000:]
        assert "0 new or changed" in third.stdout
        assert "Published: nothing" in third.stdout
        assert _digest(warehouse) == published

        # 6. The API down past the retries: the run fails, names where, and changes nothing.
        fake.faults = [Fault("500")] * 50
        down = run_cli(["run"], env)
        outputs.append(down)
        assert down.returncode == 1
        # Key 1 does not say its environment: the probe that would learn it is what fails.
        assert "key 1 of 2: EnvironmentProbe failed with HTTP 500 after 3 attempts" in down.stdout
        assert _digest(warehouse) == published
        fake.faults = []
        again = run_cli(["run"], env)
        outputs.append(again)
        assert again.returncode == 0, again.stdout[-3000:]

    # The keys appear in no output, no run storage, no warehouse file and no pulled file.
    for key in (KEY_1, KEY_2):
        for result in outputs:
            assert key not in result.stdout and key not in result.stderr
        for root in (tmp_path / "dagster_home", warehouse.parent):
            leaks = [p for p in root.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
            assert leaks == []
