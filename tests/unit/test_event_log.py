"""The run's event log: written through pooled connections, read by Dagster's own storage."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.runtime.event_log import open_instance
from orchestration.runtime.private_apis import PooledSqliteEventLogStorage


@dg.asset
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=counted)
def counted_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _materialize(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([counted, counted_has_rows], instance=instance)
    assert result.success
    return result.run_id


def test_a_home_with_default_storage_gets_pooled_writes_that_dagsters_storage_reads(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with open_instance(home) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run_ids = [_materialize(instance), _materialize(instance)]
        written = [len(instance.all_logs(run_id)) for run_id in run_ids]

    with dg.DagsterInstance.from_config(str(home)) as reader:  # what the UI and the daemon open
        assert type(reader.event_log_storage) is SqliteEventLogStorage
        assert [len(reader.all_logs(run_id)) for run_id in run_ids] == written
        latest = reader.get_latest_materialization_event(dg.AssetKey("counted"))
        assert latest.run_id == run_ids[-1]
        assert latest.asset_materialization.metadata["rows"].value == 3
        check = reader.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("counted"), "counted_has_rows")]
        )
        assert [record.run_id for record in check.values()] == [run_ids[-1]]
    assert (home / "history" / "runs" / f"{run_ids[0]}.db").exists()  # Dagster's own layout


def test_deleting_a_run_releases_its_database(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with open_instance(home) as instance:
        run_id = _materialize(instance)
        instance.delete_run(run_id)
        assert instance.all_logs(run_id) == []
        assert _materialize(instance) != run_id  # the storage still writes after the delete


def test_a_home_that_configures_its_storage_keeps_it(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  sqlite:\n    base_dir: " + str(tmp_path / "elsewhere") + "\n"
    )
    with open_instance(home) as instance:
        assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        _materialize(instance)
    assert any(Path(tmp_path / "elsewhere").rglob("*.db"))


def _open_when_all_are_ready(home: str, ready: multiprocessing.synchronize.Barrier) -> None:
    ready.wait()
    with open_instance(Path(home)):
        pass


def test_processes_that_open_a_new_home_at_once_leave_it_readable(tmp_path):
    """Dagster's SQLite storages create their databases on first open with no lock of their own;
    without ours, four processes at once left the run storage with two version rows in 6 homes of
    10 (and some of the four failed)."""
    fork = multiprocessing.get_context("fork")
    for attempt in range(4):
        home = tmp_path / f"home{attempt}"
        ready = fork.Barrier(4)
        openers = [
            fork.Process(target=_open_when_all_are_ready, args=(str(home), ready)) for _ in range(4)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
        assert [opener.exitcode for opener in openers] == [0, 0, 0, 0]
        with dg.DagsterInstance.from_config(str(home)) as reader:
            assert reader.get_runs() == []
