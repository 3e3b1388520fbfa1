"""Object storage that fails: the export on the S3-compatible test server, read through a
fault-injecting proxy on 127.0.0.1 (tests/s3_fault_proxy.py). Faults that the retries mend land
exactly what a clean run lands; a file whose reads fail past the retries is recorded as failed
with the fault named, and a folder whose listing fails lands nothing new; the rest lands, the
run exits 1, and the next clean run completes equal to a clean build."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import query, run_cli, table_checksums, upload_to_s3
from tests.s3_fault_proxy import S3Fault, S3FaultProxy, in_request, s3_run_env

pytestmark = pytest.mark.slow

BUCKET, PREFIX = "stigg-exports", "acme/prod"
# Faults that the retries mend, each injected once (RELIABILITY.md counts them). Keys come
# URL-encoded in request paths: dt=... is dt%3D... (s3_fault_proxy.in_request).
MENDED_FAULTS = (
    *[S3Fault("503", "GET", "/customers/dt%3D")] * 2,
    *[S3Fault("500", "GET", "/subscriptions/dt%3D")] * 2,
    *[S3Fault("reset", "GET", "/features/dt%3D")] * 2,
    S3Fault("stall", "GET", "/plans/dt%3D", seconds=5),
    S3Fault("truncate", "GET", "usage_events", keys=1),
)


@pytest.fixture
def s3_export(tmp_path: Path, s3_server: str) -> Path:
    export = tmp_path / "export"
    generate_export(export, ExportConfig(customers=30, seed=5, transfers=2))
    upload_to_s3(s3_server, BUCKET, PREFIX, export)
    return export


def _env(pipeline_env: dict, tmp_path: Path, name: str, endpoint: str) -> dict:
    warehouse = tmp_path / name / "stigg_warehouse.duckdb"
    return s3_run_env(
        pipeline_env, endpoint, f"s3://{BUCKET}/{PREFIX}", warehouse, tmp_path / f"{name}_home"
    )


def test_faults_the_retries_mend_land_exactly_what_a_clean_run_lands(
    tmp_path, pipeline_env, s3_server, s3_export
):
    clean_env = _env(pipeline_env, tmp_path, "clean", s3_server)
    assert run_cli(["run"], clean_env).returncode == 0
    clean = table_checksums(clean_env["STIGG_WAREHOUSE_PATH"])

    with S3FaultProxy(s3_server, faults=list(MENDED_FAULTS)) as proxy:
        faulted_env = _env(pipeline_env, tmp_path, "faulted", proxy.url)
        result = run_cli(["run"], faulted_env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert proxy.faults == []  # every fault was injected
        assert proxy.served == Counter(fault.kind for fault in MENDED_FAULTS)
    assert table_checksums(faulted_env["STIGG_WAREHOUSE_PATH"]) == clean


def test_faults_past_the_retries_fail_one_file_or_one_listing_and_the_next_run_completes(
    tmp_path, pipeline_env, s3_server, s3_export
):
    clean_env = _env(pipeline_env, tmp_path, "clean", s3_server)
    assert run_cli(["run"], clean_env).returncode == 0
    clean = table_checksums(clean_env["STIGG_WAREHOUSE_PATH"])
    blamed = sorted(p.relative_to(s3_export).as_posix() for p in s3_export.glob("coupons/*/*"))[-1]

    faults = [
        *[S3Fault("500", "GET", "/" + in_request(blamed).replace("%2F", "/"))]
        * 200,  # every read of one file, past the retries
        *[S3Fault("503", "GET", "prefix=acme%2Fprod%2Fsubscriptions")] * 200,  # one listing
    ]
    with S3FaultProxy(s3_server, faults=faults) as proxy:
        env = _env(pipeline_env, tmp_path, "faulted", proxy.url)
        failed = run_cli(["run"], env)
        assert proxy.served["500"] >= 3 and proxy.served["503"] >= 3
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output[-3000:]
    warehouse = env["STIGG_WAREHOUSE_PATH"]
    # The file: failed, with the fault named; nothing of it landed; its model's others did.
    assert f"FAILED FILE {blamed}" in output
    [(reason,)] = query(
        warehouse,
        "SELECT error FROM meta.landed_files WHERE path = ? AND status = 'failed'",
        [blamed],
    )
    assert "internal error" in reason.lower(), reason  # S3's words for 500 InternalError
    assert query(
        warehouse, "SELECT count(*) FROM raw.coupons WHERE _stigg_source_file = ?", [blamed]
    ) == [(0,)]
    assert query(warehouse, "SELECT count(*) > 0 FROM raw.coupons") == [(True,)]
    # The listing: the model and the fault named, nothing of it landed, the other models did.
    assert "LISTING FAILED subscriptions:" in output, output[-3000:]
    assert "reduce your request rate" in output  # S3's words for 503 SlowDown
    assert query(warehouse, "SELECT count(*) FROM raw.subscriptions") == [(0,)]
    assert query(warehouse, "SELECT count(*) > 0 FROM raw.customers") == [(True,)]

    with S3FaultProxy(s3_server) as proxy:  # the store is well again
        again = run_cli(["run"], dict(env, AWS_ENDPOINT_URL=proxy.url))
    assert again.returncode == 0, again.stdout[-3000:]
    # Equal to a clean build, but for the manifest, which keeps the failed attempt's row.
    after = table_checksums(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.landed_files"} == {
        k: v for k, v in clean.items() if k != "meta.landed_files"
    }
    landed = "SELECT path, status FROM meta.landed_files WHERE status = 'landed' ORDER BY ALL"
    assert query(warehouse, landed) == query(clean_env["STIGG_WAREHOUSE_PATH"], landed)
