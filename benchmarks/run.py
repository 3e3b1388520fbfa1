"""Benchmark: the pipeline against DuckDB itself, on generated exports of several sizes and shapes.

    uv run python benchmarks/run.py                 # the sample run, S, and M in three shapes
    uv run python benchmarks/run.py M:versions      # one preset:shape
    uv run python benchmarks/run.py L               # L (100M events; ~2 GB of Parquet)
    uv run python benchmarks/run.py M --write-golden  # keep M's published warehouse as golden
    uv run python benchmarks/run.py S M --engine spark  # also on local Spark, beside DuckDB
    uv run python benchmarks/run.py --long-haul     # the long haul (tests/support/long_haul.py) at M

For each preset and shape (orchestration/synthetic/scale_export.py), on the same files, in one run:
- landing: rows/s of the `raw_export` step, next to DuckDB's own bulk read of the same files
  (CREATE TABLE AS SELECT * FROM read_parquet(...), per model), as a ratio;
- full run: `stigg-warehouse run` on transfers 1-29 (landing, dbt build with every test, the
  analytics, the report, publishing), next to a plain DuckDB SQL build of the 17 tables with the
  same typing and dedup and no framework, as a ratio;
- incremental run: transfer 30 arrives (1/30 of the data), as a ratio to the full run;
- no-op run: nothing new, in seconds;
- peak memory: the largest sum of RSS over the run's processes (CLI, dbt), sampled every 0.1 s,
  overall and per step;
- a profile of the full and the incremental run: each step (landing, dbt, the checks, publishing,
  the report), Dagster's own overhead (the run's wall time minus its steps), and dbt by node
  (run_results.json: models per layer, tests, the slowest nodes).
- the published warehouse, after the incremental run, against benchmarks/golden/ where a file is
  kept for that export: the same relations, columns, types, nullability and rows.
It also times the bundled sample export end to end (`stigg-warehouse run` into a fresh
warehouse, with the project installed and dbt parsed: a second run on the machine).

With `--engine spark`, each export is also run on Spark (a local Spark Connect server started
for it, STIGG_ENGINE=spark) on the same files: full, incremental and no-op runs, as ratios to
the DuckDB runs of the same benchmark (benchmarks/results-spark.json).

Generated exports are kept in benchmarks/data/<preset>-<shape>/ and reused; warehouses are
rebuilt each time. It prints the table and writes benchmarks/results.json. Nothing here asserts.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from orchestration.settings import Settings
from orchestration.spec.tables import TABLES, Table
from orchestration.synthetic.scale_export import PRESETS, SHAPES, generate_scale_export

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
SAMPLE_EXPORT = ROOT / "seeds" / "sample_export"
GOLDEN = ROOT / "benchmarks" / "golden"
WRITE_GOLDEN = "--write-golden" in sys.argv
LONG_HAUL = "--long-haul" in sys.argv
ON_SPARK = (
    sys.argv[sys.argv.index("--engine") + 1 :][:1] == ["spark"] if "--engine" in sys.argv else False
)
DEFAULT_RUNS = ["sample", "S:default", "M:default", "M:versions", "M:wide"]

# figure -> (label, comparison, target per preset; None: no target at that size)
TARGETS = {
    "landing_ratio": ("landing vs DuckDB read", ">=", {"M": 0.9}),
    "full_ratio": ("full run vs plain SQL", "<=", {"S": 15.0, "M": 1.5, "L": 1.5}),
    "incremental_ratio": ("incremental vs full", "<=", {"M": 0.15, "L": 0.15}),
    "noop_seconds": ("no-op run (s)", "<=", {"S": 1.0, "M": 1.0, "L": 1.0}),
    "peak_memory_gib": ("peak memory (GiB)", "<=", {"M": 4.0, "L": 4.0}),
}
SAMPLE_TARGET_SECONDS = 10.0


@dataclass
class Figures:
    preset: str
    shape: str
    raw_rows: int
    export_mb: float
    landing_rows_per_s: float
    duckdb_read_rows_per_s: float
    landing_ratio: float
    full_seconds: float
    baseline_seconds: float
    full_ratio: float
    peak_memory_gib: float
    incremental_seconds: float
    incremental_ratio: float
    noop_seconds: float
    warehouse_mb: float
    # The published warehouse against benchmarks/golden/<preset>-<shape>.json, where one is kept:
    # "same", or the relations that differ. None: no golden file for this export.
    golden: str | None = None
    profile: dict = field(default_factory=dict)


def long_haul(runs: list[str]) -> int:
    """The long haul of tests/support/long_haul.py on each export: its transfers one run each, from an
    S3-compatible server on 127.0.0.1 through the fault-injecting proxy, with kills; then one
    clean build of the same transfers, and whether every table is equal."""
    sys.path.insert(0, str(ROOT))
    from tests.support.long_haul import run_long_haul, s3_env
    from tests.support.s3 import moto_server
    from tests.support.warehouse import table_checksums

    hauls = []
    for run in runs:
        name, _, shape = run.partition(":")
        generated = generated_export(name, shape or "default")
        work = DATA / f"{name}-{shape or 'default'}" / "long-haul"
        shutil.rmtree(work, ignore_errors=True)
        base = _env(work, generated)
        with moto_server() as endpoint:
            print(f"\n=== long haul, preset {run} ===", flush=True)
            warehouse, figures = run_long_haul(generated, work, endpoint, base, seed=20261202)
            clean_path = work / "clean" / "stigg_warehouse.duckdb"
            clean = timed_run(s3_env(base, endpoint, clean_path, work / "dagster_home"))
        haul, clean_build = table_checksums(warehouse), table_checksums(clean_path)
        differ = sorted(
            name
            for name in set(haul) | set(clean_build)
            if haul.get(name) != clean_build.get(name) and name != "meta.landed_files"
        )
        hauls.append(
            {
                "preset": run,
                "figures": figures.line(),
                "haul_seconds": round(figures.seconds, 1),
                "clean_build_seconds": round(clean.seconds, 1),
                "tables_differing_from_the_clean_build": differ,
            }
        )
        print(f"{figures.line()}; clean build {clean.seconds:.1f}s; differing tables: {differ}")
    print(f"\nWrote {write_results('results-long-haul.json', hauls=hauls)}")
    return 0


def write_results(name: str, **figures: object) -> str:
    """benchmarks/<name>: the figures, with the date, the commit and the machine they are of."""
    out = ROOT / "benchmarks" / name
    stamp = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": _commit()}
    out.write_text(json.dumps({**stamp, "machine": machine(), **figures}, indent=2))
    return str(out.relative_to(ROOT))


def main(runs: list[str]) -> int:
    if LONG_HAUL:
        return long_haul([r for r in runs if r != "sample"])
    results: list[Figures] = []
    sample_seconds = None
    for run in runs:
        if run == "sample":
            sample_seconds = sample_run()
            print(f"sample export, end to end: {sample_seconds:.1f}s", flush=True)
            continue
        preset, _, shape = run.partition(":")
        print(f"\n=== preset {preset}, shape {shape or 'default'} ===", flush=True)
        results.append(bench(preset, shape or "default"))
    spark_results = [bench_spark(r) for r in results] if ON_SPARK else []
    print()
    print(render(results, sample_seconds))
    if spark_results:
        print()
        print(render_spark(spark_results))
        write_results("results-spark.json", results=spark_results)
    for figures in results:
        print()
        print(render_profile(figures))
    written = write_results(
        "results.json",
        memory_limit=os.environ.get("STIGG_DUCKDB_MEMORY_LIMIT", "default"),
        sample_run_seconds=sample_seconds,
        results=[asdict(r) for r in results],
    )
    print(f"\nWrote {written}")
    return 0


def _env(work: Path, export: Path) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))},
        "STIGG_EXPORT_URI": str(export),
        "STIGG_WAREHOUSE_PATH": str(work / "warehouse" / "stigg_warehouse.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    if "STIGG_DUCKDB_MEMORY_LIMIT" in os.environ:
        env["STIGG_DUCKDB_MEMORY_LIMIT"] = os.environ["STIGG_DUCKDB_MEMORY_LIMIT"]
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster_home" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    return env


def sample_run() -> float:
    """The bundled sample into a fresh warehouse, as a second run on the machine is."""
    work = DATA / "sample"
    shutil.rmtree(work, ignore_errors=True)
    env = _env(work, SAMPLE_EXPORT)
    timed_run(env)  # the first run on the machine: dbt parses for this warehouse
    shutil.rmtree(work / "warehouse")
    return timed_run(env).seconds


def generated_export(name: str, shape: str) -> Path:
    """The preset's export, generated once and kept."""
    generated = DATA / f"{name}-{shape}" / "generated"
    if not (generated / ".complete").exists():
        shutil.rmtree(generated, ignore_errors=True)
        summary = generate_scale_export(generated, PRESETS[name], shape=SHAPES[shape])
        (generated / ".complete").write_text(json.dumps(asdict(summary)))
        print(f"generated {summary.rows:,} rows in {summary.files} files, {summary.seconds:.1f}s")
    return generated


def bench(name: str, shape: str) -> Figures:
    generated = generated_export(name, shape)
    transfers = sorted({p.name for p in generated.glob("*/dt=*")})
    first, last = transfers[:-1], transfers[-1:]

    work = DATA / f"{name}-{shape}" / "work"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    _copy_transfers(generated, export, first)
    env = _env(work, export)
    files = {
        t.model: sorted(str(p) for p in export.glob(f"{t.model}/dt=*/*.parquet")) for t in TABLES
    }

    read_seconds, raw_rows = duckdb_bulk_read(files, work / "duckdb_read.duckdb")
    print(f"DuckDB bulk read: {raw_rows:,} rows in {read_seconds:.1f}s", flush=True)
    baseline_seconds = plain_sql_build(files, work / "plain_sql.duckdb")
    print(f"plain SQL build: {baseline_seconds:.1f}s", flush=True)
    for scratch in ("duckdb_read.duckdb", "plain_sql.duckdb"):
        (work / scratch).unlink(missing_ok=True)

    full = timed_run(env)
    full_profile = profile(env, full)
    landing_seconds = full_profile["steps"]["raw_export"]["seconds"]
    print(
        f"full run: {full.seconds:.1f}s (landing {landing_seconds:.1f}s), peak {full.peak_gib:.2f} GiB",
        flush=True,
    )

    _copy_transfers(generated, export, last)
    incremental = timed_run(env)
    incremental_profile = profile(env, incremental)
    print(
        f"incremental run: {incremental.seconds:.1f}s, peak {incremental.peak_gib:.2f} GiB",
        flush=True,
    )
    noop = timed_run(env)
    print(f"no-op run: {noop.seconds:.2f}s", flush=True)
    golden = compare_with_golden(Path(env["STIGG_WAREHOUSE_PATH"]), f"{name}-{shape}")
    if golden is not None:
        print(f"published warehouse vs {GOLDEN.relative_to(ROOT)}/{name}-{shape}.json: {golden}")

    return Figures(
        preset=name,
        shape=shape,
        raw_rows=raw_rows,
        export_mb=_mb(sum(p.stat().st_size for p in export.rglob("*.parquet"))),
        landing_rows_per_s=raw_rows / landing_seconds,
        duckdb_read_rows_per_s=raw_rows / read_seconds,
        landing_ratio=read_seconds / landing_seconds,
        full_seconds=full.seconds,
        baseline_seconds=baseline_seconds,
        full_ratio=full.seconds / baseline_seconds,
        peak_memory_gib=max(full.peak_gib, incremental.peak_gib, noop.peak_gib),
        incremental_seconds=incremental.seconds,
        incremental_ratio=incremental.seconds / full.seconds,
        noop_seconds=noop.seconds,
        warehouse_mb=_mb(Path(env["STIGG_WAREHOUSE_PATH"]).stat().st_size),
        golden=golden,
        profile={"full": full_profile, "incremental": incremental_profile},
    )


def bench_spark(duck: Figures) -> dict:
    """The export of `duck` on local Spark: full (transfers 1-29), incremental (30), no-op."""
    from orchestration.runtime.engines import spark_server

    generated = DATA / f"{duck.preset}-{duck.shape}" / "generated"
    transfers = sorted({p.name for p in generated.glob("*/dt=*")})
    work = DATA / f"{duck.preset}-{duck.shape}" / "work-spark"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    _copy_transfers(generated, export, transfers[:-1])
    print(f"\n=== {duck.preset} {duck.shape} on Spark ===", flush=True)
    server, process = spark_server.start_server(work / "spark")
    try:
        env = {**_env(work, export), "STIGG_ENGINE": "spark", "STIGG_SPARK_REMOTE": server.remote}
        full = timed_run(env)
        print(f"full run on Spark: {full.seconds:.1f}s", flush=True)
        _copy_transfers(generated, export, transfers[-1:])
        incremental = timed_run(env)
        print(f"incremental run on Spark: {incremental.seconds:.1f}s", flush=True)
        noop = timed_run(env)
        server_peak = psutil.Process(server.pid).memory_info().rss / 2**30
    finally:
        spark_server.stop(process)
    return {
        "preset": duck.preset,
        "shape": duck.shape,
        "raw_rows": duck.raw_rows,
        "duckdb_full_seconds": duck.full_seconds,
        "duckdb_incremental_seconds": duck.incremental_seconds,
        "full_seconds": full.seconds,
        "full_vs_duckdb": full.seconds / duck.full_seconds,
        "incremental_seconds": incremental.seconds,
        "incremental_vs_full": incremental.seconds / full.seconds,
        "incremental_vs_duckdb": incremental.seconds / duck.incremental_seconds,
        "noop_seconds": noop.seconds,
        "client_peak_memory_gib": max(full.peak_gib, incremental.peak_gib),
        "server_rss_gib_at_end": server_peak,
    }


def render_spark(results: list[dict]) -> str:
    lines = ["On local Spark (2 cores favour DuckDB; see BENCHMARKS.md, Spark):"]
    for r in results:
        lines.append(
            f"  {r['preset']} {r['shape']}: full {r['full_seconds']:.1f}s "
            f"({r['full_vs_duckdb']:.2f}x DuckDB's), incremental {r['incremental_seconds']:.1f}s "
            f"({r['incremental_vs_full']:.2f} of its full run, {r['incremental_vs_duckdb']:.2f}x "
            f"DuckDB's), no-op {r['noop_seconds']:.1f}s, server {r['server_rss_gib_at_end']:.1f} GiB"
        )
    return "\n".join(lines)


def compare_with_golden(warehouse: Path, export_name: str) -> str | None:
    """ "same" when every relation of the published schemas has the golden file's columns, types,
    nullability, row count and row digest (tests/pipeline/test_golden.py, the same comparison for the
    sample); else the relations that differ. Write a golden file with `--write-golden`."""
    from tests.pipeline.test_golden import PUBLISHED_SCHEMAS
    from tests.support.warehouse import describe_relations, relation_differences

    path = GOLDEN / f"{export_name}.json"
    if not path.exists() and not WRITE_GOLDEN:
        return None
    described = describe_relations(warehouse, PUBLISHED_SCHEMAS)
    if WRITE_GOLDEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(described, indent=1, sort_keys=True) + "\n")
    differing = relation_differences(json.loads(path.read_text()), described)
    return "same" if not differing else "differs: " + ", ".join(differing)


def _copy_transfers(generated: Path, export: Path, transfers: list[str]) -> None:
    for folder in generated.glob("*/dt=*"):
        if folder.name in transfers:
            shutil.copytree(folder, export / folder.relative_to(generated), dirs_exist_ok=True)


def duckdb_bulk_read(files: dict[str, list[str]], path: Path) -> tuple[float, int]:
    """DuckDB's own read of the same files into tables: the speed landing is measured against."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    started = time.monotonic()
    rows = 0
    for model, model_files in files.items():
        if model_files:
            con.execute(
                f"CREATE TABLE {model} AS SELECT * FROM read_parquet(?, union_by_name = true)",
                [model_files],
            )
            rows += con.execute(f"SELECT count(*) FROM {model}").fetchone()[0]
    con.execute("CHECKPOINT")
    seconds = time.monotonic() - started
    con.close()
    return seconds, rows


def plain_sql_build(files: dict[str, list[str]], path: Path) -> float:
    """The 17 tables by hand: the same typing and the same dedup rule, straight from the files.

    One CREATE TABLE AS per table, each row typed to the doc (TRY_CAST), and QUALIFY keeping a
    key's row with the latest UPDATED_AT, then the later transfer, file and content hash: what
    an engineer would write with no framework, no raw layer, no rejects and no tests.
    """
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    started = time.monotonic()
    for table in TABLES:
        if files[table.model]:
            con.execute(_plain_sql(table, con, files[table.model]), [files[table.model]])
    con.execute("CHECKPOINT")
    seconds = time.monotonic() - started
    con.close()
    return seconds


def _plain_sql(table: Table, con: duckdb.DuckDBPyConnection, model_files: list[str]) -> str:
    present = {
        r[0].lower()
        for r in con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [model_files]
        ).fetchall()
    }
    typed = []
    for column in table.columns:
        target = table.warehouse_type(column)
        source = f'"{column.name.lower()}"' if column.name.lower() in present else "NULL"
        typed.append(f'TRY_CAST({source} AS {target}) AS "{column.name}"')
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    updated = (
        "coalesce(UPDATED_AT, transfer_at) DESC, "
        if any(c.name == "UPDATED_AT" for c in table.columns)
        else ""
    )
    return f"""
    CREATE TABLE "{table.name}" AS
    SELECT {names} FROM (
        SELECT {", ".join(typed)}, filename,
               strptime(regexp_extract(filename, '_(\\d{{14}})\\.[a-z.]+$', 1), '%Y%m%d%H%M%S')::TIMESTAMPTZ AS transfer_at
        FROM read_parquet(?, union_by_name = true, filename = true, hive_partitioning = false)
    )
    QUALIFY row_number() OVER (
        PARTITION BY {", ".join(table.key)}
        ORDER BY {updated}transfer_at DESC, filename DESC, md5(CAST(row({names}) AS VARCHAR)) DESC
    ) = 1
    """


@dataclass
class TimedRun:
    seconds: float
    peak_gib: float
    run_id: str | None
    samples: list[tuple[float, int]]  # (time.time(), summed RSS in bytes)


def timed_run(env: dict[str, str]) -> TimedRun:
    """`stigg-warehouse run` as a user starts it; wall time and the RSS of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "stigg-warehouse"), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    samples: list[tuple[float, int]] = []
    sampler = threading.Thread(target=_sample_rss, args=(process.pid, samples), daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    sampler.join(timeout=1)
    if process.returncode != 0:
        print(output[-5000:])
        raise SystemExit(f"stigg-warehouse run exited {process.returncode}")
    match = re.search(r"^Run ([0-9a-f-]{36}):", output, re.MULTILINE)
    peak = max((rss for _, rss in samples), default=0)
    return TimedRun(seconds, peak / 2**30, match.group(1) if match else None, samples)


def _sample_rss(pid: int, samples: list[tuple[float, int]]) -> None:
    try:
        root = psutil.Process(pid)
        while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            samples.append((time.time(), total))
            time.sleep(0.1)
    except psutil.Error:
        return


_PROFILE_CODE = """
import json, sys, dagster as dg
instance = dg.DagsterInstance.get()
stats = instance.get_run_stats(sys.argv[1])
steps = {s.step_key: [s.start_time, s.end_time] for s in instance.get_run_step_stats(sys.argv[1])}
print(json.dumps({"run": [stats.start_time, stats.end_time], "steps": steps}))
"""


def profile(env: dict[str, str], run: TimedRun) -> dict:
    """Where a run's seconds went: its steps, Dagster's own share, dbt by node; peak memory per step."""
    out = subprocess.run(
        [sys.executable, "-c", _PROFILE_CODE, run.run_id or ""],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    steps = {}
    for step, (start, end) in stats["steps"].items():
        window = [rss for t, rss in run.samples if start <= t <= end]
        steps[step] = {
            "seconds": round(end - start, 2),
            "peak_memory_gib": round(max(window, default=0) / 2**30, 2),
        }
    in_steps = sum(s["seconds"] for s in steps.values())
    return {
        "wall_seconds": round(run.seconds, 2),
        "steps": steps,
        # The CLI's process start, the definitions, the instance and its event writes outside
        # any step, and the summary.
        "outside_steps_seconds": round(run.seconds - in_steps, 2),
        "dbt": _dbt_profile(env, run.run_id),
    }


def _dbt_profile(env: dict[str, str], run_id: str | None) -> dict:
    found = sorted(
        Settings.from_env(env).dbt_target_dir.glob(
            f"stigg_dbt_models-{(run_id or '')[:7]}-*/run_results.json"
        )
    )
    if not found:
        return {}
    results = json.loads(found[-1].read_text())
    by_kind: dict[str, float] = {}
    for result in results["results"]:
        unique_id = result["unique_id"]
        kind = unique_id.split(".")[0]
        if kind == "model":
            kind = "models " + _layer(unique_id)
        by_kind[kind] = round(by_kind.get(kind, 0) + result["execution_time"], 2)
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:8]
    return {
        "elapsed_seconds": round(results["elapsed_time"], 2),
        "nodes": len(results["results"]),
        "node_seconds_by_kind": by_kind,
        "slowest": [
            [r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2)] for r in slowest
        ],
    }


def _layer(unique_id: str) -> str:
    name = unique_id.split(".")[-1]
    if name.startswith("stg_"):
        return "staging"
    if name.startswith("rejects_"):
        return "rejects"
    if name.isupper():
        return "stigg"
    if name == "reconciliation":
        return "meta"
    return "analytics"


def render(results: list[Figures], sample_seconds: float | None = None) -> str:
    header = ["figure", *(f"{r.preset} {r.shape}" for r in results), "target"]
    rows = [
        ["raw rows", *(f"{r.raw_rows:,}" for r in results), ""],
        ["export (MB of Parquet)", *(f"{r.export_mb:,.0f}" for r in results), ""],
        ["landing (rows/s)", *(f"{r.landing_rows_per_s:,.0f}" for r in results), ""],
        ["DuckDB read (rows/s)", *(f"{r.duckdb_read_rows_per_s:,.0f}" for r in results), ""],
        ["full run (s)", *(f"{r.full_seconds:.1f}" for r in results), ""],
        ["plain SQL build (s)", *(f"{r.baseline_seconds:.1f}" for r in results), ""],
        ["incremental run (s)", *(f"{r.incremental_seconds:.1f}" for r in results), ""],
        ["warehouse (MB)", *(f"{r.warehouse_mb:,.0f}" for r in results), ""],
        ["warehouse vs golden", *(r.golden or "no golden" for r in results), ""],
    ]
    for figure, (label, op, targets) in TARGETS.items():
        cells = []
        for r in results:
            value = getattr(r, figure)
            target = targets.get(r.preset)
            if target is None:
                cells.append(f"{value:.2f}")
                continue
            met = value >= target if op == ">=" else value <= target
            cells.append(f"{value:.2f} {'met' if met else 'NOT met'}")
        rows.append([label, *cells, ", ".join(f"{p} {op} {t}" for p, t in targets.items())])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    if sample_seconds is not None:
        met = "met" if sample_seconds <= SAMPLE_TARGET_SECONDS else "NOT met"
        lines.append(
            f"\nsample export run, end to end: {sample_seconds:.1f}s {met} (<= {SAMPLE_TARGET_SECONDS:.0f})"
        )
    return "\n".join(lines)


def render_profile(figures: Figures) -> str:
    lines = [f"profile {figures.preset} {figures.shape}"]
    for name, run in figures.profile.items():
        steps = ", ".join(
            f"{step} {s['seconds']:.1f}s ({s['peak_memory_gib']:.2f} GiB)"
            for step, s in run["steps"].items()
        )
        lines.append(
            f"  {name}: {run['wall_seconds']:.1f}s = {steps}; outside steps {run['outside_steps_seconds']:.1f}s"
        )
        dbt = run.get("dbt") or {}
        if dbt:
            kinds = ", ".join(f"{k} {v:.1f}s" for k, v in dbt["node_seconds_by_kind"].items())
            slowest = ", ".join(f"{n} {s:.1f}s" for n, s in dbt["slowest"][:5])
            lines.append(f"    dbt {dbt['elapsed_seconds']:.1f}s, {dbt['nodes']} nodes: {kinds}")
            lines.append(f"    slowest: {slowest}")
    return "\n".join(lines)


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}"


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _mb(size: int) -> float:
    return size / 1e6


def _parse(arguments: list[str]) -> list[str]:
    runs = []
    if "--engine" in arguments:
        at = arguments.index("--engine")
        if arguments[at + 1 : at + 2] not in (["spark"], ["duckdb"]):
            raise SystemExit("--engine takes spark or duckdb (the default)")
        arguments = arguments[:at] + arguments[at + 2 :]
    arguments = [a for a in arguments if a not in ("--write-golden", "--long-haul")]
    for argument in arguments or (["M:default"] if LONG_HAUL else DEFAULT_RUNS):
        if argument == "sample":
            runs.append(argument)
            continue
        preset, _, shape = argument.upper().partition(":")
        shape = shape.lower() or "default"
        if preset not in PRESETS or shape not in SHAPES:
            raise SystemExit(
                f"unknown {argument!r}: choose 'sample' or PRESET[:SHAPE] from {sorted(PRESETS)} "
                f"and {sorted(SHAPES)}"
            )
        runs.append(f"{preset}:{shape}")
    return runs


if __name__ == "__main__":
    raise SystemExit(main(_parse(sys.argv[1:])))
