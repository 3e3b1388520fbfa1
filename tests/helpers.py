"""What several test modules share: running the CLI and dbt, reading a warehouse, exports,
the browser. Fixtures are in conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psutil
import pytest

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, dbt_executable

SHARED_DIR = PROJECT_ROOT.parent / "shared"
SAMPLE_EXPORT = PROJECT_ROOT / "seeds" / "sample_export"
SCREENSHOTS = Path(
    os.environ.get("STIGG_SCREENSHOT_DIR", PROJECT_ROOT / "artifacts" / "screenshots")
)
# Where the fault tests keep the line of figures they print (RELIABILITY.md quotes them).
FIGURES = Path(os.environ.get("STIGG_FIGURES_DIR", PROJECT_ROOT / "artifacts" / "figures"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]  # fmt: skip

# The analytics models (dbt_project/models/analytics/), besides the report.
ANALYTICS_MODELS = (
    "subscription_history",
    "customer_history",
    "subscription_addon_history",
    "subscription_coupon_history",
    "mrr_monthly",
    "mrr_movements_by_customer",
    "mrr_movements",
    "arr",
    "entitlement_utilization",
    "trial_conversion",
    "usage_daily",
    "feature_adoption",
)

# Columns that say when or by which run a row was loaded, not what it holds.
LOAD_COLUMNS = {"_stigg_load_id", "_stigg_loaded_at", "load_id", "recorded_at"}
# Bookkeeping of how the warehouse was built (which loads each incremental table took in, the
# last build's input), not of what it holds: it differs between histories by design.
BOOKKEEPING_TABLES = {"meta.dbt_processed_loads", "meta.build_state"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(
    args: list[str], env: dict[str, str], timeout: int = 1800
) -> subprocess.CompletedProcess:
    """The real console script's code, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_dbt(
    args: list[str], database: Path, tmp_path: Path, **variables: str
) -> subprocess.CompletedProcess:
    """dbt alone, from dbt_project/, against `database` (as the README's "dbt alone" says)."""
    return subprocess.run(
        [
            dbt_executable(),
            "--no-use-colors",
            *args,
            "--profiles-dir",
            str(PROJECT_ROOT),
            "--vars",
            json.dumps({"stigg_database_path": str(database), **variables}),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def query(path: str | Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def table_checksums(path: str | Path) -> dict[str, tuple[int, str]]:
    """Every table's and view's row count and an order-independent digest of its rows, load
    columns and bookkeeping tables aside."""
    return {
        relation: (described["rows"], described["digest"])
        for relation, described in describe_relations(path).items()
    }


def describe_relations(path: str | Path, schemas: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each table and view (of `schemas`, or of all), bookkeeping aside: its kind, its columns
    with type and nullability, its row count, and an order-independent digest of its rows
    without the load columns."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")  # timestamps cast to text alike on every machine
        relations = con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        described = {}
        for schema, table, kind in relations:
            if f"{schema}.{table}" in BOOKKEEPING_TABLES or (schemas and schema not in schemas):
                continue
            columns = con.execute(
                """SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
                   WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
                [schema, table],
            ).fetchall()
            content = [name for name, _, _ in columns if name not in LOAD_COLUMNS]
            row = "row(" + ", ".join('"' + c.replace('"', '""') + '"' for c in content) + ")"
            relation = f'"{schema}"."{table}"'
            rows, digest = con.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(cast({row} AS varchar)), '' "
                f"ORDER BY md5(cast({row} AS varchar)))), '') FROM {relation}"
            ).fetchone()
            described[f"{schema}.{table}"] = {
                "kind": "view" if kind == "VIEW" else "table",
                "columns": [[name, typ, nullable] for name, typ, nullable in columns],
                "rows": rows,
                "digest": digest,
            }
    return described


def relation_differences(expected: dict[str, dict], actual: dict[str, dict]) -> dict[str, dict]:
    """Of two `describe_relations`, each relation that differs: the parts that differ, as
    (expected, actual); a relation missing on one side is None there."""
    differences = {}
    for relation in sorted(set(expected) | set(actual)):
        want, got = expected.get(relation), actual.get(relation)
        if want != got:
            parts = set(want or {}) | set(got or {})
            differences[relation] = {
                part: ((want or {}).get(part), (got or {}).get(part))
                for part in sorted(parts)
                if (want or {}).get(part) != (got or {}).get(part)
            }
    return differences


def copy_transfers(full: Path, export: Path, days: set[str]) -> None:
    """The files of the transfers whose `dt=` folder is in `days`, from `full` into `export`."""
    for data_file in full.rglob("*"):
        if data_file.is_file() and data_file.parent.name in days:
            target = export / data_file.relative_to(full)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(data_file, target)


def copy_new_files(later: Path, export: Path) -> list[str]:
    """Copy the files of `later` that `export` lacks (the next transfer); their paths, sorted."""
    new = sorted(
        p.relative_to(later).as_posix()
        for p in later.rglob("*")
        if p.is_file() and not (export / p.relative_to(later)).exists()
    )
    for relative in new:
        (export / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(later / relative, export / relative)  # keeps mtime: the same fingerprint
    return new


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without STIGG_ and DAGSTER_ variables, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    env.update(values)
    return env


def debian_chromium() -> str:
    """Debian's chromium (Playwright cannot download its own browser here); installed if missing."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing and could not be installed (apt-get install chromium)"
        )
    return found


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def mounted_tmpfs(mount_point: Path, size_mb: int) -> Iterator[Path]:
    """A file system of its own (root only), so that the test sets its size and its `used`
    counts what the pipeline writes there, files still open after deletion included."""
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount_point)], check=True
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


class WatchedRun:
    """`stigg-warehouse run` in its own session, with the step it is in, from its progress lines."""

    def __init__(self, env: dict[str, str], *extra_args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "run", *extra_args],
            env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        self.phase = "starting"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("▸ landing"):
                self.phase = "landing"
            elif line.startswith("▸ dbt"):
                self.phase = "dbt"
            elif line.startswith("▸ publishing"):
                self.phase = "publishing"

    def wait_for_phase(self, phase: str, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while self.phase != phase and self.process.poll() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return self.phase == phase

    def kill_during(
        self,
        phase: str,
        delay: float,
        whole_group: bool,
        once: Callable[[], bool] | None = None,
    ) -> str | None:
        """SIGKILL the run `delay` seconds into `phase` (counted from when `once()` holds, if
        given); the step it was in when the signal went, or None if the run ended first."""
        if not self.wait_for_phase(phase):
            return None
        while once is not None and not once():
            if self.process.poll() is not None:
                return None
            time.sleep(0.01)
        time.sleep(delay)
        if self.process.poll() is not None:
            return None
        killed_in = self.phase
        self.kill(whole_group)
        return killed_in

    def has_dbt_running(self) -> bool:
        """Whether the run's dbt subprocess has started and still runs."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return False
        for child in children:
            with contextlib.suppress(psutil.Error):  # a child that ended while it was looked at
                if child.is_running() and "dbt" in " ".join(child.cmdline()):
                    return True
        return False

    def kill(self, whole_group: bool) -> None:
        if whole_group:  # the machine dies: the CLI and its dbt subprocess
            os.killpg(self.process.pid, signal.SIGKILL)
        else:  # `kill -9 <pid>`: dbt, if running, is left to finish on its own
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def in_session(sid: int) -> list[int]:
    """The pids of every process in session `sid` (zombies too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found


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


def report_figures(test: str, line: str) -> None:
    """Print a test's figures and keep them in FIGURES/<test>.txt, for RELIABILITY.md."""
    print(f"\n{line}")
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{test}.txt").write_text(line + "\n")
