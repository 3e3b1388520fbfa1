"""Secrets: S3 credentials come from the environment only and appear in no output or file.
(Stigg API keys: tests/api/test_api_pipeline.py.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.leaks import files_containing
from tests.support.runs import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.ci]


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

    ok = run_cli(["run", "--verbose"], pipeline_env)
    assert ok.returncode == 0, ok.stdout[-3000:]
    missing = run_cli(["run"], dict(pipeline_env, STIGG_EXPORT_URI="s3://no-such-bucket/x"))
    assert missing.returncode == 2 and "s3://no-such-bucket/x" in missing.stderr
    broken = run_cli(["run"], dict(pipeline_env, AWS_ENDPOINT_URL="http://127.0.0.1:9"))
    assert broken.returncode != 0

    for result in (ok, missing, broken):
        assert secret not in result.stdout and secret not in result.stderr
    assert files_containing(Path(pipeline_env["DAGSTER_HOME"]), secret.encode()) == []
    assert (
        files_containing(Path(pipeline_env["STIGG_WAREHOUSE_PATH"]).parent, secret.encode()) == []
    )
    # dbt's log of this run is in the warehouse's dbt folder, which the line below reads.
    assert list(Settings.from_env(pipeline_env).dbt_target_dir.glob("stigg_dbt_models-*/dbt.log"))
    assert files_containing(DBT_PROJECT_DIR / "target", secret.encode()) == []
