"""Where this project relies on Dagster's and dagster-dbt's private APIs, all of them: each says
why, and what would remove it. They are of the pinned versions (uv.lock); tests/unit/
test_event_log.py and test_definitions.py fail if an upgrade changes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

# 1-4. The event log's pooled storage (runtime/event_log.py): Dagster's SQLite event log opens a
# connection for each write, about 6 s of a sample run's 850 events. A storage is a configurable
# class that subclasses Dagster's (2, 4), and an instance takes it as an override of its ref (1)
# only after reading the home's own config (3) to leave a configured storage alone. Removed by:
# Dagster pooling its SQLite connections, or a public way to name a storage class in code.
from dagster._core.instance.config import dagster_instance_config  # noqa: F401 (3)
from dagster._core.instance.ref import InstanceRef  # noqa: F401 (1)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage  # (2)
from dagster._serdes import ConfigurableClassData  # (4)
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging import version
from sqlalchemy import Connection, Engine, create_engine, event

_BUSY_TIMEOUT_SECONDS = 15  # Dagster's own, for a database another process is writing


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with one engine per database file, its connections pooled, and
    commits that wait for the WAL, not the disk (runtime/event_log.py says why that is safe).
    (2) also: it overrides Dagster's `_connect`, with its `_db_lock`, `_initdb` and
    `_initialized_dbs`."""

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


# 5-6. dbt's resource, without two costs of every invocation (about 2 s a run).
class StiggDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two costs of every invocation that this project does not
    need (about 2 s a run): `dbt --version` in a subprocess, to tell dbt Core from the Fusion
    engine (this is dbt-core, pinned in pyproject.toml), and a dbt adapter opened in this process,
    which dagster-dbt uses only for `fetch_row_counts()` and `fetch_column_metadata()` (the row
    counts here come from the project's own log lines). Both are dagster-dbt internals of the
    pinned version; tests/unit/test_definitions.py fails if they change."""

    # 5. `dbt --version` in a subprocess, to tell dbt Core from Fusion. Removed by: dagster-dbt
    # reading the installed dbt-core's version, or taking it as a field.
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_core_version)

    # 6. A dbt adapter opened in this process, used only by fetch_row_counts() and
    # fetch_column_metadata(). Removed by: dagster-dbt opening it on first use.
    def _initialize_dbt_core_adapter(self, args):
        return None
