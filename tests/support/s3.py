"""A real S3-compatible server (moto) on loopback, and putting an export into it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.support.machine import free_port


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A real S3-compatible server (moto) on 127.0.0.1, empty; its endpoint URL. Moto keeps its
    buckets in this process, so each server starts by emptying them (its reset endpoint): a test
    never reads another test's objects. Its request log (a line per request) is not printed."""
    import logging
    import urllib.request

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        yield url
    finally:
        server.stop()


# The test S3 server's credentials (moto accepts any): the environment a run reads them from.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "stigg-test-key",
    "AWS_SECRET_ACCESS_KEY": "stigg-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def upload_to_s3(
    endpoint: str, bucket: str, prefix: str, root: Path, files: list[Path] | None = None
) -> None:
    """Put `files` (every file under `root` if None) into the bucket, keyed by their path
    under `root` after `prefix`; the bucket is made if it is not there."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    for path in files if files is not None else sorted(root.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(root).as_posix()}")
