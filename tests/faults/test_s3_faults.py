"""Object storage that fails: the export on the S3-compatible test server, read through a
fault-injecting proxy on 127.0.0.1 (tests/support/s3_fault_proxy.py). Faults that the retries mend land
exactly what a clean run lands; a file whose reads fail past the retries is recorded as failed
with the fault named, and a folder whose listing fails lands nothing new; the rest lands, the
run exits 1, and the next clean run completes equal to a clean build."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.runs import clean_env, run_cli
from tests.support.s3 import moto_server, upload_to_s3
from tests.support.s3_fault_proxy import S3Fault, S3FaultProxy, in_request, s3_run_env
from tests.support.warehouse import query, table_checksums

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


@dataclass(frozen=True)
class S3Export:
    endpoint: str
    folder: Path  # the export as generated, on disk
    clean_warehouse: str  # one clean run's warehouse of it, read straight from the server
    clean: dict  # its table checksums


@pytest.fixture(scope="module")
def s3_export(tmp_path_factory) -> Iterator[S3Export]:
    """The export on the S3-compatible test server, and one clean build of it for the module."""
    root = tmp_path_factory.mktemp("s3_faults")
    folder = root / "export"
    generate_export(folder, ExportConfig(customers=30, seed=5, transfers=2))
    with moto_server() as endpoint:
        upload_to_s3(endpoint, BUCKET, PREFIX, folder)
        env = _env(clean_env(), root, "clean", endpoint)
        assert run_cli(["run"], env).returncode == 0
        warehouse = env["STIGG_WAREHOUSE_PATH"]
        yield S3Export(endpoint, folder, warehouse, table_checksums(warehouse))


def _env(base: dict, root: Path, name: str, endpoint: str) -> dict:
    warehouse = root / name / "stigg_warehouse.duckdb"
    return s3_run_env(base, endpoint, f"s3://{BUCKET}/{PREFIX}", warehouse, root / f"{name}_home")


def test_faults_the_retries_mend_land_exactly_what_a_clean_run_lands(
    tmp_path, pipeline_env, s3_export
):
    with S3FaultProxy(s3_export.endpoint, faults=list(MENDED_FAULTS)) as proxy:
        faulted_env = _env(pipeline_env, tmp_path, "faulted", proxy.url)
        result = run_cli(["run"], faulted_env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert proxy.faults == []  # every fault was injected
        assert proxy.served == Counter(fault.kind for fault in MENDED_FAULTS)
    assert table_checksums(faulted_env["STIGG_WAREHOUSE_PATH"]) == s3_export.clean


@pytest.mark.ci
def test_faults_past_the_retries_fail_one_file_or_one_listing_and_the_next_run_completes(
    tmp_path, pipeline_env, s3_export
):
    folder = s3_export.folder
    blamed = sorted(p.relative_to(folder).as_posix() for p in folder.glob("coupons/*/*"))[-1]

    faults = [
        *[S3Fault("500", "GET", "/" + in_request(blamed).replace("%2F", "/"))]
        * 200,  # every read of one file, past the retries
        *[S3Fault("503", "GET", "prefix=acme%2Fprod%2Fsubscriptions")] * 200,  # one listing
    ]
    with S3FaultProxy(s3_export.endpoint, faults=faults) as proxy:
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

    with S3FaultProxy(s3_export.endpoint) as proxy:  # the store is well again
        again = run_cli(["run"], dict(env, AWS_ENDPOINT_URL=proxy.url))
    assert again.returncode == 0, again.stdout[-3000:]
    # Equal to a clean build, but for the manifest, which keeps the failed attempt's row.
    after = table_checksums(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.landed_files"} == {
        k: v for k, v in s3_export.clean.items() if k != "meta.landed_files"
    }
    landed = "SELECT path, status FROM meta.landed_files WHERE status = 'landed' ORDER BY ALL"
    assert query(warehouse, landed) == query(s3_export.clean_warehouse, landed)
