"""What a run leaves in dbt's target directory."""

import os

from orchestration.runtime.dbt_build import prune_invocation_targets


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
