"""Secrets: S3 credentials and Stigg API keys come from the environment only and appear in no output or file."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.helpers import run_cli

pytestmark = pytest.mark.slow


def _files_containing(root: Path, secret: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_a_planted_s3_secret_appears_in_no_output_log_or_file(tmp_path, pipeline_env, s3_server):
    import boto3

    secret = f"stigg-planted-secret-{uuid.uuid4().hex}"
    export = tmp_path / "export"
    generate_export(export, ExportConfig(customers=15, seed=4, transfers=2))
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                      aws_access_key_id="stigg-key", aws_secret_access_key=secret)  # fmt: skip
    s3.create_bucket(Bucket="exports")
    for path in export.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "exports", f"stigg/{path.relative_to(export).as_posix()}")
    pipeline_env.update(
        AWS_ACCESS_KEY_ID="stigg-key", AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=s3_server,
        STIGG_EXPORT_URI="s3://exports/stigg",
    )  # fmt: skip

    logs_before = _dbt_logs()
    ok = run_cli(["run", "--verbose"], pipeline_env)
    assert ok.returncode == 0, ok.stdout[-3000:]
    missing = run_cli(["run"], dict(pipeline_env, STIGG_EXPORT_URI="s3://no-such-bucket/x"))
    assert missing.returncode == 2 and "s3://no-such-bucket/x" in missing.stderr
    broken = run_cli(["run"], dict(pipeline_env, AWS_ENDPOINT_URL="http://127.0.0.1:9"))
    assert broken.returncode != 0

    for result in (ok, missing, broken):
        assert secret not in result.stdout and secret not in result.stderr
    assert _files_containing(Path(pipeline_env["DAGSTER_HOME"]), secret.encode()) == []
    assert (
        _files_containing(Path(pipeline_env["STIGG_WAREHOUSE_PATH"]).parent, secret.encode()) == []
    )
    # dbt's log of this run is in its target folder, which the line below reads.
    assert _dbt_logs() - logs_before
    assert _files_containing(DBT_PROJECT_DIR / "target", secret.encode()) == []


def test_planted_api_keys_appear_in_no_output_log_or_file(tmp_path, pipeline_env):
    from tests.api_helpers import small_records
    from tests.fake_stigg_api import FakeStiggApi

    keys = [f"server-planted-{n}-{uuid.uuid4().hex}" for n in range(3)]
    keys_file = tmp_path / "secrets" / "stigg_api_keys"
    keys_file.parent.mkdir()
    keys_file.write_text(f"{keys[0]}\nenv-b={keys[1]}\n")
    records = {"env-a": small_records("env-a"), "env-b": small_records("env-b", customers=2)}
    with FakeStiggApi(keys={keys[0]: "env-a", keys[1]: "env-b"}, records=records) as fake:
        pipeline_env.update(
            STIGG_SOURCE="api", STIGG_API_URL=fake.url, STIGG_API_KEYS_FILE=str(keys_file),
            STIGG_API_BACKOFF_SECONDS="0.05",
        )  # fmt: skip
        logs_before = _dbt_logs()
        ok = run_cli(["run", "--verbose"], pipeline_env)
        assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
        assert set(fake.seen_keys) == {keys[0], keys[1]}  # the keys did reach the API
        wrong = run_cli(["run"], dict(pipeline_env, STIGG_API_KEYS=keys[2]))
        assert wrong.returncode == 1 and "key 1 of 1" in wrong.stdout and "HTTP 401" in wrong.stdout

    for secret in keys:
        for result in (ok, wrong):
            assert secret not in result.stdout and secret not in result.stderr
        for root in (
            Path(pipeline_env["DAGSTER_HOME"]),
            Path(pipeline_env["STIGG_WAREHOUSE_PATH"]).parent,  # the warehouse and the pulls
            DBT_PROJECT_DIR / "target",
        ):
            assert _files_containing(root, secret.encode()) == []
    assert _dbt_logs() - logs_before  # dbt's log of this run, read by the loop above


def _dbt_logs() -> set[Path]:
    """dbt's log of each pipeline run: dagster-dbt points DBT_LOG_PATH at the invocation's own
    target folder, under dbt_project/target/."""
    return set((DBT_PROJECT_DIR / "target").glob("stigg_dbt_models-*/dbt.log"))
