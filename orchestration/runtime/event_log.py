"""Dagster's SQLite event log, written at the cost of a row rather than of a connection.

Dagster's own `SqliteEventLogStorage` creates an engine and opens a connection for each write, and
a run writes about 850 events (a step output, a materialization or a check evaluation for each dbt
node, and the plans of each): about 6 s of a sample run went there. This storage keeps one engine
per database file, with its connections pooled, and commits with `synchronous=NORMAL` in the WAL
mode that Dagster already sets: a commit survives the process being killed, and only an operating
system crash can lose the last commits of a run's log (never the warehouse, whose own state says
what was built). The files, their tables and their layout are Dagster's, so the UI, the daemon and
any other instance over the same home read them as usual.

`open_instance` uses it wherever an instance's dagster.yaml leaves storage to Dagster's default,
for the runs that this process executes (`stigg-warehouse run`). A dagster.yaml that configures a
storage (Postgres, say) is used as it is.

Dagster's SQLite storages create and stamp their databases the first time an instance opens a home,
with nothing to stop two processes doing it at once: two first runs started together leave the
version table with two rows, and no process can open that home again. `open_instance` opens under
a file lock in the home, and `stigg-warehouse ui` opens it once before it starts Dagster's own
processes, so a home is initialized by one process.
"""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance
from filelock import FileLock

from orchestration.runtime.private_apis import (
    InstanceRef,
    PooledSqliteEventLogStorage,
    dagster_instance_config,
)

_STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
INITIALIZATION_LOCK = ".stigg-instance.lock"


def open_instance(home: Path) -> DagsterInstance:
    """The Dagster instance of `home`, as its dagster.yaml (if any) configures it; when that leaves
    storage to Dagster's default, with this module's storage over the same event log files. Opened
    under the home's initialization lock (the storages create their databases as they open)."""
    home.mkdir(parents=True, exist_ok=True)
    with FileLock(home / INITIALIZATION_LOCK):
        config, _ = dagster_instance_config(str(home))
        if any(config.get(key) for key in _STORAGE_KEYS):
            return DagsterInstance.from_config(str(home))
        pooled = {
            "module": PooledSqliteEventLogStorage.__module__,
            "class": PooledSqliteEventLogStorage.__name__,
            "config": {"base_dir": str(home / "history" / "runs")},
        }
        return DagsterInstance.from_ref(
            InstanceRef.from_dir(str(home), overrides={"event_log_storage": pooled})
        )
