"""The same warehouse on Spark, through a real Spark Connect server on loopback.

- The sample export, run by `stigg-warehouse run` with STIGG_ENGINE=spark, builds the databases,
  the 17 documented tables and USAGE_EVENTS_<ENV> with the doc's columns and the mapped types.
- Built on DuckDB and on Spark, the sample gives the same documented tables, rejects, history
  and analytics, row for row (through Arrow; timestamps in UTC).
- A generated export landed in two runs (the second after a new transfer) lands only the new
  files and equals DuckDB's build of the whole export.
- A mandatory NULL and a value that cannot be cast reach rejects, never stigg.<TABLE>, and an
  enum in another spelling takes the doc's, as on DuckDB.
- Landing a file again (its manifest row lost to a kill) replaces its rows.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestration.runtime.engines import spark_server
from orchestration.runtime.engines.spark import published_slot
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.spec.tables import CUSTOMERS, TABLES, USAGE_EVENTS
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.machine import free_port
from tests.support.runs import WatchedRun, clean_env, copy_new_files, run_cli, run_dbt
from tests.support.spark import differences, spark_session

pytestmark = [pytest.mark.slow, pytest.mark.spark]

COMPARED_SCHEMAS = ("stigg", "rejects", "analytics")
DATABASES = {"raw", "meta", "staging", "stigg", "rejects", "analytics"}


@contextmanager
def spark_server_command(env: dict[str, str]) -> Iterator[str]:
    """`stigg-warehouse spark-server` in the foreground, as a user starts it; its address once it
    listens. Ctrl-C (SIGINT) stops it, and it removes its state file."""
    settings = Settings.from_env(env)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "spark-server", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = []
        while not seen or f"sc://127.0.0.1:{port}" not in seen[-1]:
            seen.append(process.stdout.readline())
            assert seen[-1], "".join(seen)  # it exited before it listened
        yield f"sc://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.terminate()  # it stops its server, which would run on through the suite
            process.wait(60)
            raise
        assert code == 0
        assert not (settings.spark_local_dir / spark_server.STATE_FILE).exists()


def _environment(root: Path, export: Path | None = None) -> dict[str, str]:
    return clean_env(
        STIGG_ENGINE="spark",
        STIGG_WAREHOUSE_PATH=str(root / "wh" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
        **({"STIGG_EXPORT_URI": str(export)} if export else {}),
    )


@pytest.fixture(scope="session")
def spark_sample(tmp_path_factory) -> Iterator[tuple[str, dict[str, str], str]]:
    """The sample export built by `stigg-warehouse run` with STIGG_ENGINE=spark, on the server
    that `stigg-warehouse spark-server` runs for its warehouse (the run finds it): (the server's
    address, the run's environment, the run's output)."""
    env = _environment(tmp_path_factory.mktemp("spark_sample"))
    with spark_server_command(env) as remote:
        result = run_cli(["run"], env)
        assert result.returncode == 0, result.stdout + result.stderr
        yield remote, env, result.stdout


def test_the_sample_builds_the_documented_databases_and_tables_on_spark(spark_sample):
    remote, _, output = spark_sample
    assert f"Spark: the local Spark Connect server {remote}" in output
    assert "already running" in output
    assert "Published: the views of stigg" in output
    with spark_session(remote) as spark:
        databases = {row[0] for row in spark.sql("SHOW DATABASES").collect()}
        assert databases >= DATABASES
        published = {row.tableName for row in spark.sql("SHOW TABLES IN stigg").collect()}
        documented = {t.name.lower() for t in TABLES if t is not USAGE_EVENTS}
        assert documented <= published
        environment_tables = {name for name in published if name.startswith("usage_events_")}
        assert environment_tables, published
        for table in TABLES:
            names = [table.name] if table is not USAGE_EVENTS else sorted(environment_tables)
            for name in names:
                columns = [
                    (f.name, f.dataType.simpleString()) for f in spark.table(f"stigg.{name}").schema
                ]
                expected = [(c.name, table.warehouse_type(c, "spark")) for c in table.columns]
                assert columns == expected, name


def test_duckdb_and_spark_build_the_same_sample_warehouse(spark_sample, sample_warehouse):
    remote, _, _ = spark_sample
    duckdb_path, _ = sample_warehouse
    with spark_session(remote) as spark:
        assert differences(duckdb_path, spark, COMPARED_SCHEMAS) == {}


def test_a_null_in_a_mandatory_column_fails_its_not_null_test_on_spark(spark_sample, tmp_path):
    """Spark enforces no NOT NULL, so the not_null tests are the guard: a NULL that reached a
    documented table (written here behind the pipeline's back) fails the build's test. It runs
    last on the sample's server, which it changes."""
    remote, _, _ = spark_sample
    with spark_session(remote) as spark:
        slot = published_slot(spark)
        table = f"stigg__{slot}.CUSTOMERS"
        values = ", ".join("NULL" if c.name == "ID" else c.name for c in CUSTOMERS.columns)
        spark.sql(f"INSERT INTO {table} SELECT {values} FROM {table} LIMIT 1")
    result = run_dbt(
        ["test", "--target", "spark", "--select", "not_null_CUSTOMERS"],
        None,
        tmp_path,
        environment={"STIGG_SPARK_REMOTE": remote},
        stigg_build_slot=slot,
        stigg_check_scope="all",
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "FAIL 1 not_null_CUSTOMERS" in result.stdout


@dataclasses.dataclass(frozen=True)
class ThreeTransfers:
    full: Path  # the export's three transfers, the third with bad customers
    last_transfer: str  # the third's `dt=` folder name
    duckdb_warehouse: Path  # DuckDB's build of all three


@pytest.fixture(scope="module")
def three_transfers(tmp_path_factory) -> ThreeTransfers:
    """Built once for the module: an export of three transfers, the third with bad customers,
    and DuckDB's build of it, which each Spark build of it must equal."""
    root = tmp_path_factory.mktemp("three_transfers")
    full = root / "full"
    generate_export(full, ExportConfig(customers=40, seed=23, transfers=3, events_per_customer=3))
    last_transfer = sorted({p.parent.name for p in full.rglob("*.parquet")})[-1]
    _write_bad_customers(full, last_transfer)
    duckdb_env = clean_env(
        STIGG_EXPORT_URI=str(full),
        STIGG_WAREHOUSE_PATH=str(root / "duck" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(root / "duck_home"),
    )
    result = run_cli(["run"], duckdb_env)
    assert result.returncode == 0, result.stdout[-3000:]
    return ThreeTransfers(full, last_transfer, Path(duckdb_env["STIGG_WAREHOUSE_PATH"]))


def _first_two_transfers(three: ThreeTransfers, export: Path) -> Path:
    """A copy of the export as it was before its third transfer arrived."""
    shutil.copytree(three.full, export)
    for folder in export.glob(f"*/{three.last_transfer}"):
        shutil.rmtree(folder)
    return export


@pytest.mark.ci
@pytest.mark.timeout(3600)
def test_a_second_run_lands_only_the_new_transfer_and_equals_duckdb(tmp_path, three_transfers):
    """Two transfers, then a third (with bad customers): the second Spark run lands only the
    third's files, and the warehouse equals DuckDB's build of all three, row for row."""
    full = three_transfers.full
    export = _first_two_transfers(three_transfers, tmp_path / "export")

    # No server runs: each run starts a local one for itself and stops it; the warehouse lives
    # on in the metastore and warehouse folder beside STIGG_WAREHOUSE_PATH.
    env = _environment(tmp_path / "spark_run", export)
    first = run_cli(["run"], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "starting a local Spark Connect server for this run" in first.stdout
    new_files = copy_new_files(full, export)
    assert new_files
    second = run_cli(["run"], env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"Landed {len(new_files)} new files" in second.stdout
    assert spark_server.running_server(Settings.from_env(env).spark_local_dir) is None

    with spark_server_command(env) as remote, spark_session(remote) as spark:
        landed_twice = spark.sql(
            "SELECT path FROM meta.landed_files WHERE status = 'landed' "
            "GROUP BY path HAVING count(*) > 1"
        ).collect()
        assert landed_twice == []
        reasons = {
            row[0]: row[1]
            for row in spark.sql(
                "SELECT ID, rejection_reason FROM rejects.customers WHERE ID LIKE 'bad-%'"
            ).collect()
        }
        assert "NULL in mandatory column CREATED_AT" in reasons["bad-null"]
        assert "HAS_ACTIVE_SUBSCRIPTION: cannot cast maybe to BOOLEAN" in reasons["bad-cast"]
        documented = (
            "SELECT ID, DEFAULT_PAYMENT_METHOD_TYPE FROM stigg.CUSTOMERS WHERE ID LIKE 'bad-%'"
        )
        assert [tuple(row) for row in spark.sql(documented).collect()] == [("bad-spelling", "CARD")]
        assert differences(three_transfers.duckdb_warehouse, spark, COMPARED_SCHEMAS) == {}
        _relanding_a_file_replaces_its_rows(spark, full)
        _an_export_the_server_cannot_see_is_named(spark, full)


def _write_bad_customers(export: Path, transfer_folder: str) -> None:
    """Three customers in one more file of the transfer: a NULL in a mandatory column, a value
    that cannot be cast, and an enum in another spelling (which takes the doc's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = export / "customers" / transfer_folder
    stamp = next(folder.glob("*.parquet")).stem.split("_")[-1]
    base = {
        "CUSTOMER_ID": "c-bad", "ENVIRONMENT_ID": "env-bad", "HAS_ACTIVE_SUBSCRIPTION": "true",
        "UPDATED_AT": "2025-03-01T00:00:00Z", "CREATED_AT": "2025-02-01T00:00:00Z",
        "DEFAULT_PAYMENT_METHOD_TYPE": "CARD",
    }  # fmt: skip
    rows = [
        base | {"ID": "bad-null", "CREATED_AT": None},
        base | {"ID": "bad-cast", "HAS_ACTIVE_SUBSCRIPTION": "maybe"},
        base | {"ID": "bad-spelling", "DEFAULT_PAYMENT_METHOD_TYPE": "card"},
    ]
    schema = pa.schema([(name, pa.string()) for name in ["ID", *base]])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"0001_{stamp}.parquet")


def _an_export_the_server_cannot_see_is_named(spark, export: Path) -> None:
    from orchestration.runtime.engines.spark import ExportNotVisibleError, SparkRaw
    from orchestration.runtime.sources.export import ExportSource

    files, _ = ExportSource(str(export)).scan()
    elsewhere = dataclasses.replace(files[0], uri="/nowhere/on/the/server/" + files[0].path)
    with pytest.raises(ExportNotVisibleError, match="/nowhere/on/the/server/"):
        SparkRaw(spark).check_visible(elsewhere)


def _relanding_a_file_replaces_its_rows(spark, export: Path) -> None:
    """A run killed after a file's rows landed and before its manifest row leaves the rows
    without the row; the next run lands the file again, and its rows are replaced, not added."""
    from orchestration.runtime.engines.spark import SparkRaw
    from orchestration.runtime.sources.export import ExportSource

    files, _ = ExportSource(str(export)).scan()
    customers = [f for f in files if f.model == "customers"][:1]
    count = f"SELECT count(*) FROM raw.customers WHERE _stigg_source_file = '{customers[0].path}'"
    before = spark.sql(count).collect()[0][0]
    assert before > 0
    rows = SparkRaw(spark).land_batch("customers", customers, "relanded")
    assert spark.sql(count).collect()[0][0] == before == rows[customers[0].path]


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_a_run_killed_while_dbt_builds_changes_nothing_readers_see_and_the_next_run_completes(
    tmp_path, three_transfers
):
    """`kill -9` of a Spark run while its dbt builds: dbt goes on alone; what readers see (the
    published slot) is unchanged; the next run waits for that dbt, then completes, and equals
    DuckDB's build of the same export."""
    export = _first_two_transfers(three_transfers, tmp_path / "export")
    env = _environment(tmp_path / "spark_run", export)
    with spark_server_command(env) as remote, spark_session(remote) as spark:
        assert run_cli(["run"], env).returncode == 0
        published = published_slot(spark)
        customers = spark.sql("SELECT count(*) FROM stigg.CUSTOMERS").collect()[0][0]

        copy_new_files(three_transfers.full, export)
        killed = WatchedRun(env)
        assert killed.wait_for_phase("dbt", timeout=600)
        killed.kill(whole_group=False)  # its dbt is left to build on its own
        assert published_slot(spark) == published
        assert spark.sql("SELECT count(*) FROM stigg.CUSTOMERS").collect()[0][0] == customers

        after = run_cli(["run"], env)
        assert after.returncode == 0, after.stdout + after.stderr
        assert published_slot(spark) != published
        assert differences(three_transfers.duckdb_warehouse, spark, COMPARED_SCHEMAS) == {}
