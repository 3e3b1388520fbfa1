"""The same warehouse on Spark, through a real Spark Connect server on loopback.

- The sample export, run by `stigg-warehouse run` with STIGG_ENGINE=spark, builds the databases,
  the 17 documented tables and USAGE_EVENTS_<ENV> with the doc's columns and the mapped types.
- Built on DuckDB and on Spark, the sample gives the same documented tables, rejects, history
  and analytics, row for row (through Arrow; timestamps in UTC).
- A run with no server running starts a local one for itself and stops it; a run while
  `stigg-warehouse spark-server` runs for the warehouse uses that one.
- A second run of the sample after a new transfer (records repeated, and bad customers) lands
  only the new files and equals DuckDB's build of the whole export.
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
from datetime import date, timedelta
from pathlib import Path

import pytest

from orchestration.runtime.engines.spark import server as spark_server
from orchestration.runtime.engines.spark.tables import published_slot
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.spec.tables import CUSTOMERS, TABLES, USAGE_EVENTS
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.file_cases import reason_kind, write_file_cases
from tests.support.machine import free_port
from tests.support.paths import SAMPLE_EXPORT
from tests.support.runs import WatchedRun, clean_env, copy_new_files, run_cli, run_dbt
from tests.support.spark import differences, raw_differences, spark_session
from tests.support.warehouse import query

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


@dataclasses.dataclass(frozen=True)
class SparkSample:
    remote: str  # the server `stigg-warehouse spark-server` runs for the warehouse
    env: dict[str, str]  # the run's environment
    output: str  # what the run printed
    export: Path  # a copy of the bundled sample, which a later test adds a transfer to


@pytest.fixture(scope="module")
def spark_sample(tmp_path_factory) -> Iterator[SparkSample]:
    """The sample export built by `stigg-warehouse run` with STIGG_ENGINE=spark and no server
    running (the run starts a local one and stops it), then the warehouse's server, as
    `stigg-warehouse spark-server` runs it, for the tests to read it."""
    root = tmp_path_factory.mktemp("spark_sample")
    export = root / "export"
    shutil.copytree(SAMPLE_EXPORT, export)  # copy2: mtimes kept, as the files' fingerprints are
    env = _environment(root, export)
    result = run_cli(["run"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert spark_server.running_server(Settings.from_env(env).spark_local_dir) is None
    with spark_server_command(env) as remote:
        yield SparkSample(remote, env, result.stdout, export)


def test_the_sample_builds_the_documented_databases_and_tables_on_spark(spark_sample):
    assert "starting a local Spark Connect server for this run" in spark_sample.output
    assert "Published: the views of stigg" in spark_sample.output
    with spark_session(spark_sample.remote) as spark:
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
    duckdb_path, _ = sample_warehouse
    with spark_session(spark_sample.remote) as spark:
        assert differences(duckdb_path, spark, COMPARED_SCHEMAS) == {}


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
    return ThreeTransfers(full, last_transfer, _duckdb_build(full, root))


def _duckdb_build(export: Path, root: Path, *, files_fail: bool = False) -> Path:
    """DuckDB's build of `export` in `root`, which a Spark build of it must equal: its path.
    With `files_fail`, some files fail to land: the run exits 1 and still publishes."""
    env = clean_env(
        STIGG_EXPORT_URI=str(export),
        STIGG_WAREHOUSE_PATH=str(root / "duck" / "stigg_warehouse.duckdb"),
        DAGSTER_HOME=str(root / "duck_home"),
    )
    result = run_cli(["run"], env)
    assert result.returncode == (1 if files_fail else 0), result.stdout[-3000:]
    return Path(env["STIGG_WAREHOUSE_PATH"])


def _first_two_transfers(three: ThreeTransfers, export: Path) -> Path:
    """A copy of the export as it was before its third transfer arrived."""
    shutil.copytree(three.full, export)
    for folder in export.glob(f"*/{three.last_transfer}"):
        shutil.rmtree(folder)
    return export


@pytest.mark.ci
@pytest.mark.timeout(1800)
def test_a_second_run_lands_only_the_new_transfer_and_equals_duckdb(spark_sample, tmp_path):
    """A new transfer arrives in the sample's export: records repeated from the last one, bad
    customers, and every file-level case of the hostile-input suite (tests/support/file_cases.py).
    The second run, while the warehouse's server runs, uses that server, lands only the
    transfer's files, fails the bad ones, and exits 1. Against DuckDB's build of the whole
    export: each file has the same status, rows and kind of reason, raw holds the same rows as
    text, and the documented tables, rejects and analytics are equal, row for row. Landing a
    file again replaces its rows; an export the server cannot see is named."""
    export, remote = spark_sample.export, spark_sample.remote
    new_files = _add_a_transfer(export)
    cases = write_file_cases(export)
    failing = [c for c in cases if c.status == "failed"]
    second = run_cli(["run"], spark_sample.env)
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"Spark: the local Spark Connect server {remote}" in second.stdout
    assert "already running" in second.stdout
    assert f"Landed {len(new_files) + len(cases) - len(failing)} new files" in second.stdout
    for case in failing:
        assert f"FAILED FILE {case.path}" in second.stdout

    duckdb_warehouse = _duckdb_build(export, tmp_path, files_fail=True)

    with spark_session(remote) as spark:
        landed_twice = spark.sql(
            "SELECT path FROM meta.landed_files WHERE status = 'landed' "
            "GROUP BY path HAVING count(*) > 1"
        ).collect()
        assert landed_twice == []
        spark_files = _outcomes(
            spark.sql("SELECT path, status, rows, error FROM meta.landed_files").collect()
        )
        assert spark_files == _outcomes(
            query(duckdb_warehouse, "SELECT path, status, rows, error FROM meta.landed_files")
        )
        for case in cases:
            status, rows, reason = spark_files[case.path]
            assert (status, rows) == (case.status, case.rows), case
            assert case.reason is None or reason.startswith(case.reason), (case, reason)
        assert raw_differences(duckdb_warehouse, spark, [t.model for t in TABLES]) == {}
        rfc_4180 = "SELECT ID, NAME, AMOUNTS_OFF FROM stigg.COUPONS WHERE ID LIKE 'coupon-rfc-%'"
        assert sorted(tuple(row) for row in spark.sql(rfc_4180).collect()) == [
            ("coupon-rfc-1", 'Partner "15 off"', '[{"amount": 15.0, "currency": "USD"}]'),
            ("coupon-rfc-2", "Plain", None),
        ]
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
        assert differences(duckdb_warehouse, spark, COMPARED_SCHEMAS) == {}
        _relanding_a_file_replaces_its_rows(spark, export)
        _an_export_the_server_cannot_see_is_named(spark, export)


def _outcomes(rows) -> dict[str, tuple]:
    """Each file's latest outcome in a manifest: status, rows, and the kind of its reason."""
    return {path: (status, count, reason_kind(error)) for path, status, count, error in rows}


def _add_a_transfer(export: Path) -> list[str]:
    """One more transfer in each model's folder, a day after the last: the last transfer's
    records again (an export repeats updated records), and bad customers. The new files' paths."""
    new_files = []
    for model in sorted(p for p in export.iterdir() if p.is_dir()):
        last = sorted(model.glob("dt=*"))[-1]
        day = date.fromisoformat(last.name.removeprefix("dt=")) + timedelta(days=1)
        folder = model / f"dt={day.isoformat()}"
        folder.mkdir()
        for file in sorted(last.glob("*.parquet")):
            copied = folder / f"{file.stem.split('_')[0]}_{day:%Y%m%d}023500.parquet"
            shutil.copyfile(file, copied)
            new_files.append(copied)
        if model.name == "customers":
            new_files.append(_write_bad_customers(export, folder.name))
    return sorted(p.relative_to(export).as_posix() for p in new_files)


def test_a_null_in_a_mandatory_column_fails_its_not_null_test_on_spark(spark_sample, tmp_path):
    """Spark enforces no NOT NULL, so the not_null tests are the guard: a NULL that reached a
    documented table (written here behind the pipeline's back) fails the build's test. It runs
    last on the sample's server, which it changes."""
    remote = spark_sample.remote
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


def _write_bad_customers(export: Path, transfer_folder: str) -> Path:
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
    path = folder / f"0001_{stamp}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _an_export_the_server_cannot_see_is_named(spark, export: Path) -> None:
    from orchestration.runtime.engines.spark.tables import ExportNotVisibleError, SparkRaw
    from orchestration.runtime.sources.export import ExportSource

    files, _ = ExportSource(str(export)).scan()
    elsewhere = dataclasses.replace(files[0], uri="/nowhere/on/the/server/" + files[0].path)
    with pytest.raises(ExportNotVisibleError, match="/nowhere/on/the/server/"):
        SparkRaw(spark).check_visible(elsewhere)


def _relanding_a_file_replaces_its_rows(spark, export: Path) -> None:
    """A run killed after a file's rows landed and before its manifest row leaves the rows
    without the row; the next run lands the file again, and its rows are replaced, not added."""
    from orchestration.runtime.engines.spark.tables import SparkRaw
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
