"""What a run leaves in dbt's target directory."""

import os

from orchestration.runtime.dbt_build import (
    dbt_build_args,
    dbt_threads,
    memory_gigabytes,
    prune_invocation_targets,
)
from orchestration.settings import Settings


def test_only_the_newest_invocation_targets_of_the_asset_stay(tmp_path):
    for age in range(5):
        invocation = tmp_path / f"stigg_dbt_models-run{age}-abcdefg"
        invocation.mkdir()
        (invocation / "run_results.json").write_text("{}")
        os.utime(invocation, (1_000_000 - age, 1_000_000 - age))
    other_asset = tmp_path / "other_asset-run9-abcdefg"
    other_asset.mkdir()
    (tmp_path / "manifest.json").write_text("{}")

    removed = prune_invocation_targets(tmp_path, "stigg_dbt_models", keep=2)

    assert sorted(path.name for path in removed) == [
        "stigg_dbt_models-run2-abcdefg",
        "stigg_dbt_models-run3-abcdefg",
        "stigg_dbt_models-run4-abcdefg",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "manifest.json",
        "other_asset-run9-abcdefg",
        "stigg_dbt_models-run0-abcdefg",
        "stigg_dbt_models-run1-abcdefg",
    ]


def test_memory_limits_are_read_in_gigabytes_and_shares_of_ram_are_not_sized():
    assert memory_gigabytes("3GB") == 3.0
    assert memory_gigabytes("800 mb") == 0.8
    assert abs(memory_gigabytes("2GiB") - 2.147483648) < 1e-9
    assert memory_gigabytes("80%") is None


def test_a_build_runs_one_node_at_a_time_only_when_raw_is_large_for_the_memory_limit():
    settings = Settings.from_env({}, warehouse_path="/data/w.duckdb", duckdb_memory_limit="3GB")
    at_m = dbt_build_args(settings, full_refresh=False, largest_raw_rows=11_500_000)
    at_l = dbt_build_args(settings, full_refresh=True, largest_raw_rows=115_000_000)
    assert "--threads" not in at_m  # the profile's two
    assert at_l[at_l.index("--threads") + 1] == "1" and at_l[-1] == "--full-refresh"
    assert dbt_threads(115_000_000, "16GB") is None  # the same rows fit a larger limit
    assert dbt_threads(115_000_000, "80%") is None
