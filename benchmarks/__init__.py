"""Benchmark: the pipeline against DuckDB itself, on generated exports of several sizes and shapes.

    uv run python benchmarks/run.py                 # the sample run, S, and M in three shapes
    uv run python benchmarks/run.py M:versions      # one preset:shape
    uv run python benchmarks/run.py L               # L (100M events; ~2 GB of Parquet)
    uv run python benchmarks/run.py M --write-golden  # keep M's published warehouse as golden
    uv run python benchmarks/run.py S M --engine spark  # also on local Spark, beside DuckDB
    uv run python benchmarks/run.py --long-haul     # the long haul (tests/support/long_haul.py) at M

(`uv run python -m benchmarks ...` is the same.) For each preset and shape
(orchestration/synthetic/scale_export.py), on the same files, in one run:
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

With `--engine spark`, each export is also run on Spark (the engine's local Spark Connect server,
started for it, STIGG_ENGINE=spark) on the same files: full,
incremental and no-op runs, as ratios to the DuckDB runs of the same benchmark
(benchmarks/results-spark.json).

Generated exports are kept in benchmarks/data/<preset>-<shape>/ and reused; warehouses are
rebuilt each time. It prints the table and writes benchmarks/results.json. Nothing here asserts.

The modules, one job each (importing any of them does no work):
- cli.py        the arguments (argparse) and main()
- scenarios.py  what one benchmark runs: the sample run, a preset's DuckDB runs (`bench`)
- spark.py      a preset's runs on local Spark (`--engine spark`)
- long_haul.py  the long haul (`--long-haul`)
- exports.py    the generated exports and their transfers
- runs.py       `stigg-warehouse run` as a user starts it: its environment, wall time, memory,
                and where its seconds went (Dagster's step stats, dbt's run results)
- baseline.py   the comparisons without the pipeline: DuckDB's bulk read, the plain-SQL build
- golden.py     the published warehouse against benchmarks/golden/
- figures.py    one benchmark's figures
- report.py     the printed tables and their targets
- results.py    the results JSON files, with the date, commit and machine
"""
