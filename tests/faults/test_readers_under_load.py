"""Readers under load: while runs land new transfers and publish, reader processes run heavy
analyst queries the whole time (scans, joins, the analytics models). No reader errors, every
answer is the one that a published state gives, the runs are not held up, and the warehouse
folder's disk use stays under 3x the warehouse's size: publishing renames the working copy into
place, and an old file's space returns once its last reader closes it. The folder sits on a
tmpfs of its own, so its `used` counts the files that readers still hold open."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import PROJECT_ROOT
from orchestration.synthetic.sample_export import ExportConfig, generate_export
from tests.support.machine import mounted_tmpfs, needs_root, report_figures
from tests.support.runs import copy_new_files, copy_transfers, run_cli

# A tmpfs of its own and a disk high-water mark: the machine to itself.
pytestmark = [pytest.mark.slow, pytest.mark.ci, pytest.mark.alone, needs_root]
READERS = 3
TRANSFERS = 4

# The state a connection reads: the published manifest's landed files (one transfer more per run).
STATE = "SELECT count(*) FROM meta.landed_files WHERE status = 'landed'"
QUERIES = {
    "raw scan": "SELECT count(*), count(DISTINCT customer_id), max(created_at) FROM raw.usage_events",
    "join": (
        "SELECT count(*), count(DISTINCT c.CUSTOMER_ID), count(DISTINCT s.PLAN_ID) "
        "FROM stigg.SUBSCRIPTIONS s JOIN stigg.CUSTOMERS c "
        "ON s.CUSTOMER_ID = c.CUSTOMER_ID AND s.ENVIRONMENT_ID = c.ENVIRONMENT_ID"
    ),
    "usage by customer": (
        "SELECT count(*), sum(events) FROM (SELECT customer_id, sum(events) AS events, "
        "rank() OVER (ORDER BY sum(events) DESC) AS ranked "
        "FROM analytics.usage_daily GROUP BY customer_id)"
    ),
    "mrr": "SELECT count(*), round(sum(mrr), 4), count(DISTINCT month) FROM analytics.mrr_monthly",
    "history": "SELECT count(*), count(*) FILTER (WHERE is_current) FROM analytics.subscription_history",
    "movements": (
        "SELECT month, round(sum(new_mrr), 4), round(sum(churn_mrr), 4), sum(closing_customers) "
        "FROM analytics.mrr_movements GROUP BY month ORDER BY month"
    ),
}

# A reader connects, reads the state and every query on that one connection, closes, and again.
READER = r"""
import json, os, sys, time, duckdb
warehouse, state_sql, queries, out, stop = sys.argv[1:3] + [json.loads(sys.argv[3])] + sys.argv[4:]
os.nice(10)  # analysts' queries share the machine's 2 cores with the runs
with open(out, "w") as results:
    while not os.path.exists(stop):
        try:
            opened = time.time()
            with duckdb.connect(warehouse, read_only=True) as con:
                state = con.execute(state_sql).fetchone()[0]
                answers = {name: con.execute(sql).fetchall() for name, sql in queries.items()}
            line = {"state": state, "answers": answers, "opened": opened, "closed": time.time()}
        except Exception as exc:
            line = {"error": f"{type(exc).__name__}: {exc}"}
        results.write(json.dumps(line, default=str) + "\n")
        results.flush()
"""


def _answers(warehouse: Path) -> tuple[int, dict]:
    """The state and the answers of the published file, as a reader writes them."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = con.execute(STATE).fetchone()[0]
        answers = {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}
    return state, json.loads(json.dumps(answers, default=str))


def test_readers_under_load_never_error_see_one_published_state_and_keep_disk_use_bounded(
    tmp_path, pipeline_env
):
    full, export = tmp_path / "full", tmp_path / "export"
    generate_export(full, ExportConfig(customers=200, seed=31, transfers=TRANSFERS))
    transfers = sorted({p.parent.name for p in full.rglob("dt=*/*")})
    assert len(transfers) == TRANSFERS
    copy_transfers(full, export, {transfers[0]})

    with mounted_tmpfs(tmp_path / "warehouse_disk", 1024) as disk:
        warehouse = disk / "stigg_warehouse.duckdb"
        env = dict(pipeline_env, STIGG_EXPORT_URI=str(export), STIGG_WAREHOUSE_PATH=str(warehouse))
        first = run_cli(["run"], env)
        assert first.returncode == 0, first.stdout[-3000:]
        expected = dict([_answers(warehouse)])

        high_water = [shutil.disk_usage(disk).used]
        renamed_at: list[float] = []  # when the published file was replaced
        sampling = threading.Event()

        def sample() -> None:
            inode = warehouse.stat().st_ino
            while not sampling.is_set():
                high_water.append(shutil.disk_usage(disk).used)
                if warehouse.stat().st_ino != inode:
                    inode = warehouse.stat().st_ino
                    renamed_at.append(time.time())
                time.sleep(0.01)

        stop = tmp_path / "stop"
        outputs = [tmp_path / f"reader-{n}.jsonl" for n in range(READERS)]
        reader_args = [sys.executable, "-c", READER, str(warehouse), STATE, json.dumps(QUERIES)]
        readers = [
            subprocess.Popen([*reader_args, str(out), str(stop)], cwd=PROJECT_ROOT)
            for out in outputs
        ]
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        run_seconds, publish_seconds = [], []
        try:
            for day in transfers[1:]:
                copy_transfers(full, export, {day})
                started = time.monotonic()
                result = run_cli(["run"], env)
                run_seconds.append(time.monotonic() - started)
                assert result.returncode == 0, result.stdout[-3000:]
                # No reader held the run up: it never waited, and it published.
                assert "Waiting for" not in result.stdout + result.stderr
                published = re.search(r"MB in ([\d.]+)s → ", result.stdout)
                assert published, result.stdout[-3000:]
                publish_seconds.append(float(published.group(1)))
                state, answers = _answers(warehouse)
                assert state not in expected
                expected[state] = answers
            assert not copy_new_files(full, export)
        finally:
            stop.touch()
            exit_codes = [reader.wait(timeout=300) for reader in readers]
            sampling.set()
            sampler.join()
        size = warehouse.stat().st_size

    assert exit_codes == [0] * READERS
    lines = [json.loads(line) for out in outputs for line in out.read_text().splitlines()]
    assert [line["error"] for line in lines if "error" in line] == []
    seen = {line["state"] for line in lines}
    assert seen <= set(expected)
    assert len(seen) >= 2  # the readers read while the warehouse moved on
    # Readers had the old file open while it was replaced, and read it to the end.
    assert len(renamed_at) == len(run_seconds)
    spanning = [
        line
        for line in lines
        # (the sampler sees a rename up to one poll late: 50 ms of margin before it)
        if any(
            line["opened"] < renamed - 0.05 and renamed < line["closed"] for renamed in renamed_at
        )
    ]
    assert spanning
    for line in lines:  # one connection, one published state: never a mix of two
        assert line["answers"] == expected[line["state"]], f"state {line['state']}"
    peak = max(high_water)
    assert peak < 3 * size
    report_figures(
        "readers_under_load",
        f"readers under load: {len(lines)} reads ({len(lines) * len(QUERIES)} queries; "
        f"{len(spanning)} open across a rename) by {READERS} readers over {len(run_seconds)} "
        f"publishing runs; longest run "
        f"{max(run_seconds):.1f}s, longest publish {max(publish_seconds):.1f}s; disk high-water "
        f"{peak / 1e6:.1f} MB = {peak / size:.2f}x the warehouse ({size / 1e6:.1f} MB)",
    )
