"""The tables the benchmark prints: each figure per preset, with the targets met or not; the
Spark runs beside DuckDB's; where each run's seconds went."""

from __future__ import annotations

from benchmarks.figures import Figures

# figure -> (label, comparison, target per preset; None: no target at that size)
TARGETS = {
    "landing_ratio": ("landing vs DuckDB read", ">=", {"M": 0.9}),
    "full_ratio": ("full run vs plain SQL", "<=", {"S": 15.0, "M": 1.5, "L": 1.5}),
    "incremental_ratio": ("incremental vs full", "<=", {"M": 0.15, "L": 0.15}),
    "noop_seconds": ("no-op run (s)", "<=", {"S": 1.0, "M": 1.0, "L": 1.0}),
    "peak_memory_gib": ("peak memory (GiB)", "<=", {"M": 4.0, "L": 4.0}),
}
SAMPLE_TARGET_SECONDS = 10.0


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
