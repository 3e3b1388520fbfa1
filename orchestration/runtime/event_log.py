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

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import DagsterInstance
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData
from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event

_STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
_BUSY_TIMEOUT_SECONDS = 15  # Dagster's own, for a database another process is writing
INITIALIZATION_LOCK = ".stigg-instance.lock"


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}  # before Dagster's init, which may connect
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)  # Dagster's names its own class

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    connect_args={"timeout": _BUSY_TIMEOUT_SECONDS},
                )
                event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    def delete_events(self, run_id: str) -> None:
        self._close(run_id)
        super().delete_events(run_id)

    def wipe(self) -> None:
        for shard in list(self._engines):
            self._close(shard)
        super().wipe()

    def dispose(self) -> None:
        for shard in list(self._engines):
            self._close(shard)
        super().dispose()

    def _close(self, shard: str) -> None:
        engine = self._engines.pop(shard, None)
        if engine is not None:
            engine.dispose()


def _commit_without_waiting_for_the_disk(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


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
            "module": __name__,
            "class": PooledSqliteEventLogStorage.__name__,
            "config": {"base_dir": str(home / "history" / "runs")},
        }
        return DagsterInstance.from_ref(
            InstanceRef.from_dir(str(home), overrides={"event_log_storage": pooled})
        )
