"""Benchmark: the pipeline against DuckDB itself, on generated exports of preset sizes.

    uv run python benchmarks/run.py            # presets S and M
    uv run python benchmarks/run.py S M L      # L too (about 100M events; needs ~40 GB of disk)

For each preset, on the same files, in one run:
- landing: rows/s of the `raw_export` step, next to DuckDB's own bulk read of the same files
  (CREATE TABLE AS SELECT * FROM read_parquet(...), per model), as a ratio (target >= 0.8);
- full run: `stigg-warehouse run` on transfers 1-29 (land, dbt build with every test, publish),
  wall time and peak memory of its process tree, next to a plain DuckDB SQL build of the 17
  tables with the same typing and dedup and no framework, as a ratio (target <= 1.5 at M);
- incremental run: transfer 30 arrives (1/30 of the data), as a ratio to the full run (<= 0.15);
- no-op run: nothing new, in seconds (<= 5).
Peak memory is the largest sum of RSS over the run's processes (CLI, dbt), sampled every 0.1 s
(target <= 4 GiB at L). DuckDB's limit is STIGG_DUCKDB_MEMORY_LIMIT (default in settings.py).

Generated exports are kept in benchmarks/data/<preset>/ and reused; a warehouse is rebuilt each run.
It prints a table and writes benchmarks/results.json. It is not a test: nothing here asserts.
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from orchestration.spec.tables import TABLES, Table
from orchestration.synthetic.scale_export import PRESETS, generate_scale_export

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT / "benchmarks" / "data"
TARGETS = {
    "landing_ratio": ("landing vs DuckDB read", ">=", 0.8),
    "full_ratio": ("full run vs plain SQL", "<=", 1.5),
    "incremental_ratio": ("incremental vs full", "<=", 0.15),
    "noop_seconds": ("no-op run (s)", "<=", 5.0),
    "peak_memory_gib": ("peak memory (GiB)", "<=", 4.0),
}


@dataclass
class Figures:
    preset: str
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


def main(presets: list[str]) -> int:
    results = []
    for name in presets:
        print(f"\n=== preset {name} ===", flush=True)
        results.append(bench(name))
    print()
    print(render(results))
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "memory_limit": os.environ.get("STIGG_DUCKDB_MEMORY_LIMIT", "default"),
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    print(f"\nWrote {out.relative_to(ROOT)}")
    return 0


def bench(name: str) -> Figures:
    preset = PRESETS[name]
    generated = DATA / name / "generated"
    if not (generated / ".complete").exists():
        shutil.rmtree(generated, ignore_errors=True)
        summary = generate_scale_export(generated, preset)
        (generated / ".complete").write_text(json.dumps(asdict(summary)))
        print(f"generated {summary.rows:,} rows in {summary.files} files, {summary.seconds:.1f}s")
    transfers = sorted({p.name for p in generated.glob("*/dt=*")})
    first, last = transfers[:-1], transfers[-1:]

    work = DATA / name / "work"
    shutil.rmtree(work, ignore_errors=True)
    export = work / "export"
    _copy_transfers(generated, export, first)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))},
        "STIGG_EXPORT_URI": str(export),
        "STIGG_WAREHOUSE_PATH": str(work / "warehouse" / "stigg_warehouse.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    if "STIGG_DUCKDB_MEMORY_LIMIT" in os.environ:
        env["STIGG_DUCKDB_MEMORY_LIMIT"] = os.environ["STIGG_DUCKDB_MEMORY_LIMIT"]
    files = {
        t.model: sorted(str(p) for p in export.glob(f"{t.model}/dt=*/*.parquet")) for t in TABLES
    }

    read_seconds, raw_rows = duckdb_bulk_read(files, work / "duckdb_read.duckdb")
    print(f"DuckDB bulk read: {raw_rows:,} rows in {read_seconds:.1f}s")
    baseline_seconds = plain_sql_build(files, work / "plain_sql.duckdb")
    print(f"plain SQL build: {baseline_seconds:.1f}s")

    full = timed_run(env)
    landing_seconds = step_seconds(env, full.run_id, "raw_export")
    print(
        f"full run: {full.seconds:.1f}s (landing {landing_seconds:.1f}s), peak {full.peak_gib:.2f} GiB"
    )

    _copy_transfers(generated, export, last)
    incremental = timed_run(env)
    print(f"incremental run: {incremental.seconds:.1f}s, peak {incremental.peak_gib:.2f} GiB")
    noop = timed_run(env)
    print(f"no-op run: {noop.seconds:.2f}s")

    return Figures(
        preset=name,
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
    )


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


def timed_run(env: dict[str, str]) -> TimedRun:
    """`stigg-warehouse run` as a user starts it; wall time and the peak RSS of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "stigg-warehouse"), "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = [0]
    sampler = threading.Thread(target=_sample_rss, args=(process.pid, peak), daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    sampler.join(timeout=1)
    if process.returncode != 0:
        print(output[-5000:])
        raise SystemExit(f"stigg-warehouse run exited {process.returncode}")
    match = re.search(r"^Run ([0-9a-f-]{36}):", output, re.MULTILINE)
    return TimedRun(seconds, peak[0] / 2**30, match.group(1) if match else None)


def _sample_rss(pid: int, peak: list[int]) -> None:
    try:
        root = psutil.Process(pid)
        while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            peak[0] = max(peak[0], total)
            time.sleep(0.1)
    except psutil.Error:
        return


def step_seconds(env: dict[str, str], run_id: str | None, step_key: str) -> float:
    """A step's duration from the run's own event log (the Dagster instance of `env`)."""
    code = (
        "import dagster as dg, sys; "
        "stats = dg.DagsterInstance.get().get_run_step_stats(sys.argv[1]); "
        "print(next(s.end_time - s.start_time for s in stats if s.step_key == sys.argv[2]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, run_id or "", step_key],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def render(results: list[Figures]) -> str:
    header = ["figure", *(r.preset for r in results), "target"]
    rows = [
        ["raw rows", *(f"{r.raw_rows:,}" for r in results), ""],
        ["export (MB of Parquet)", *(f"{r.export_mb:,.0f}" for r in results), ""],
        ["landing (rows/s)", *(f"{r.landing_rows_per_s:,.0f}" for r in results), ""],
        ["DuckDB read (rows/s)", *(f"{r.duckdb_read_rows_per_s:,.0f}" for r in results), ""],
        ["full run (s)", *(f"{r.full_seconds:.1f}" for r in results), ""],
        ["plain SQL build (s)", *(f"{r.baseline_seconds:.1f}" for r in results), ""],
        ["incremental run (s)", *(f"{r.incremental_seconds:.1f}" for r in results), ""],
        ["warehouse (MB)", *(f"{r.warehouse_mb:,.0f}" for r in results), ""],
    ]
    for field, (label, op, target) in TARGETS.items():
        cells = []
        for r in results:
            value = getattr(r, field)
            met = value >= target if op == ">=" else value <= target
            cells.append(f"{value:.2f} {'met' if met else 'NOT met'}")
        rows.append([label, *cells, f"{op} {target}"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}"


def _mb(size: int) -> float:
    return size / 1e6


if __name__ == "__main__":
    chosen = [a.upper() for a in sys.argv[1:]] or ["S", "M"]
    unknown = [p for p in chosen if p not in PRESETS]
    if unknown:
        raise SystemExit(f"unknown preset(s) {unknown}; choose from {sorted(PRESETS)}")
    raise SystemExit(main(chosen))
