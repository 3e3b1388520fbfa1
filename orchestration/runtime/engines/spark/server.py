"""The local Spark Connect server: found when one is running, started when none is.

A server owns a Derby metastore, which allows one JVM at a time, so every process of one
warehouse shares one server. A server started here writes `server.json` (its address and pid)
into its folder (`Settings.spark_local_dir`); a run reads it to find the server that is already
running (`stigg-warehouse spark-server`, or the server of a run in progress) before it starts one.
The server runs from the pyspark wheel alone (`SPARK_HOME` is the wheel's folder), bound to
loopback. Java is the only other thing it needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from orchestration.runtime.engines.spark.session_settings import session_settings
from orchestration.runtime.run_tags import process_exists
from orchestration.settings import java_home, spark_server_environment

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
STATE_FILE = "server.json"
START_TIMEOUT_SECONDS = 180
# The server's JVM heap: the driver runs every task of the local server.
DRIVER_MEMORY = "4g"
_LOOPBACK = "127.0.0.1"


class SparkServerError(RuntimeError):
    """A local Spark Connect server could not be started."""


@dataclass(frozen=True)
class LocalServer:
    remote: str  # sc://127.0.0.1:<port>
    pid: int
    directory: Path
    started_here: bool

    def describe(self) -> str:
        how = "started for this run" if self.started_here else "already running"
        return f"local Spark Connect server {self.remote} (pid {self.pid}, {how}; {self.directory})"


def spark_home() -> Path:
    """The pyspark wheel's folder: its jars and bin/spark-submit are a whole Spark."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def java_available() -> bool:
    return shutil.which("java") is not None or java_home() is not None


def server_command(directory: Path, port: int) -> list[str]:
    """spark-submit of the Connect server, with its metastore and warehouse in `directory`."""
    conf = {
        "spark.connect.grpc.binding.address": _LOOPBACK,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": _LOOPBACK,
        "spark.driver.bindAddress": _LOOPBACK,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(directory / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={directory / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={directory}",
        "spark.ui.enabled": "false",
        # Two cores: a few shuffle partitions, not 200 tiny ones.
        "spark.sql.shuffle.partitions": "4",
        **session_settings(),
    }
    command = [str(spark_home() / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += ["--driver-memory", DRIVER_MEMORY]
    return [*command, "spark-internal"]


def running_server(directory: Path) -> LocalServer | None:
    """The server that `directory`'s state file names, if its process is alive and listening."""
    try:
        state = json.loads((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not process_exists(state["pid"]) or not _listening(state["port"]):
        return None
    return LocalServer(state["remote"], state["pid"], directory, started_here=False)


def start_server(directory: Path, port: int | None = None) -> tuple[LocalServer, subprocess.Popen]:
    """Start a server for `directory` and wait until it accepts connections."""
    if not java_available():
        raise SparkServerError(
            "The Spark engine needs Java 17 to start a local Spark Connect server, and none was "
            "found: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set "
            "STIGG_SPARK_REMOTE to a running Spark Connect server."
        )
    directory.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    env = spark_server_environment(spark_home())
    log = open(directory / "server.log", "ab")  # noqa: SIM115 - the server's for its lifetime
    process = subprocess.Popen(
        server_command(directory, port),
        cwd=directory,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _listening(port):
        if process.poll() is not None:
            raise SparkServerError(
                f"The Spark Connect server exited with {process.returncode} before it listened; "
                f"see {directory / 'server.log'}"
            )
        if time.monotonic() > deadline:
            stop(process)
            raise SparkServerError(
                f"The Spark Connect server did not listen on {port} within "
                f"{START_TIMEOUT_SECONDS} s; see {directory / 'server.log'}"
            )
        time.sleep(0.25)
    server = LocalServer(f"sc://{_LOOPBACK}:{port}", process.pid, directory, started_here=True)
    (directory / STATE_FILE).write_text(
        json.dumps({"remote": server.remote, "port": port, "pid": process.pid})
    )
    return server, process


@contextlib.contextmanager
def local_server(directory: Path) -> Iterator[LocalServer]:
    """The running server of `directory`, or one started for the block and stopped after it."""
    directory.mkdir(parents=True, exist_ok=True)
    with FileLock(directory / "server.lock"):
        found = running_server(directory)
        if found is not None:
            process = None
            server = found
        else:
            server, process = start_server(directory)
    try:
        yield server
    finally:
        if process is not None:
            stop(process)
            (directory / STATE_FILE).unlink(missing_ok=True)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a server this process started: SIGTERM to its process group, then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((_LOOPBACK, port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_LOOPBACK, 0))
        return sock.getsockname()[1]
