"""The CLI's pure parts: argument parsing, the settings a run sees, its config and tags."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli.main import build_parser
from orchestration.cli.run import run_config, run_settings, run_tags
from orchestration.cli.ui import ui_command, ui_exposure
from orchestration.runtime.dbt_build import dbt_build_args
from orchestration.settings import (
    DEFAULT_DAGSTER_HOME,
    DEFAULT_WAREHOUSE_PATH,
    SAMPLE_EXPORT_DIR,
    Settings,
    dagster_home,
    dbt_executable,
    subprocess_environment,
    warehouse_config,
)


def test_flags_override_environment_variables():
    args = build_parser().parse_args(
        ["run", "--export-uri", "s3://b/p", "--warehouse-path", "x/w.duckdb"]
    )
    settings = run_settings(args, {"STIGG_EXPORT_URI": "/elsewhere"})
    assert settings.export_uri == "s3://b/p"
    assert settings.warehouse_path == Path("x/w.duckdb").absolute()


def test_environment_variables_are_kept_without_flags():
    args = build_parser().parse_args(["run"])
    settings = run_settings(args, {"STIGG_EXPORT_URI": "/exports/stigg"})
    assert settings.export_uri == "/exports/stigg"
    assert dagster_home({}) == DEFAULT_DAGSTER_HOME
    assert dagster_home({"DAGSTER_HOME": "/dh"}) == Path("/dh")


def test_flags_reach_the_run_as_resource_config_not_the_environment():
    args = build_parser().parse_args(["run", "--warehouse-path", "x/w.duckdb"])
    config = run_config(args)
    path = str(Path("x/w.duckdb").absolute())
    # Whole: Dagster refuses a resource's config that gives one field of several.
    assert config["resources"] == {
        "warehouse": {"config": warehouse_config(warehouse_path=path)},
        "published": {"config": {"warehouse_path": path, "engine": "duckdb"}},
    }
    assert "resources" not in run_config(build_parser().parse_args(["run"]))


def test_a_full_refresh_is_a_run_tag():
    assert run_tags(build_parser().parse_args(["run", "--full-refresh"]))["stigg/full_refresh"] == (
        "true"
    )
    tags = run_tags(build_parser().parse_args(["run"]))
    assert "stigg/full_refresh" not in tags and tags["stigg/pid"] == str(os.getpid())


def test_dbt_builds_the_working_copy_named_in_its_arguments():
    settings = Settings.from_env({}, warehouse_path="/data/w.duckdb", duckdb_memory_limit="1GB")
    args = dbt_build_args(settings, full_refresh=False)
    assert args[:4] == ["build", "--target", "duckdb", "--vars"] and "--full-refresh" not in args
    assert json.loads(args[4]) == {
        "stigg_database_path": "/data/w.duckdb.build",
        "stigg_duckdb_memory_limit": "1GB",
        "stigg_check_scope": "new_rows",
    }
    assert dbt_build_args(settings, full_refresh=True)[-1] == "--full-refresh"


def test_safe_defaults():
    settings = Settings.from_env({})
    assert settings.export_uri == str(SAMPLE_EXPORT_DIR)
    assert settings.warehouse_path == DEFAULT_WAREHOUSE_PATH
    assert settings.build_path != settings.warehouse_path
    assert settings.build_path.parent == settings.warehouse_path.parent


def test_a_warehouse_file_named_like_a_schema_is_refused():
    with pytest.raises(ValueError, match="ambiguous"):
        Settings.from_env({"STIGG_WAREHOUSE_PATH": "/data/stigg.duckdb"})


def test_ui_binds_to_loopback_by_default():
    command = ui_command(build_parser().parse_args(["ui"]))
    assert command[command.index("-h") + 1] == "127.0.0.1"
    assert command[command.index("-p") + 1] == "3000"


def test_generate_requires_an_output_folder():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate"])
    args = build_parser().parse_args(
        ["generate", "--out", "d", "--customers", "10", "--seed", "3", "--transfers", "5"]
    )
    assert (args.customers, args.seed, args.transfers) == (10, 3, 5)


def test_runs_find_dbt_beside_this_python_without_an_activated_venv():
    assert dbt_executable() == str(Path(sys.executable).parent / "stigg-dbt")
    assert subprocess.run([dbt_executable(), "--help"], capture_output=True).returncode == 0
    env = subprocess_environment(Path("/dh"), {"PATH": "/usr/bin"})
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PATH"].endswith("/usr/bin") and env["DAGSTER_HOME"] == "/dh"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_the_ui_on_loopback_needs_no_flag(host):
    assert ui_exposure(host, acknowledged=False) == (None, False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "stigg-box.internal"])
def test_the_ui_on_any_other_address_warns_and_refuses_without_the_flag(host):
    warning, refuse = ui_exposure(host, acknowledged=False)
    assert refuse and "no authentication" in warning and "--i-know-it-is-open" in warning
    warning, refuse = ui_exposure(host, acknowledged=True)
    assert not refuse and warning.startswith("warning:") and "no authentication" in warning


def test_ui_on_all_addresses_refuses_before_it_starts_anything(tmp_path):
    from tests.support.runs import clean_env, run_cli

    env = clean_env(DAGSTER_HOME=str(tmp_path / "home"))
    result = run_cli(["ui", "--host", "0.0.0.0", "--port", "3999"], env, timeout=60)
    assert result.returncode == 2
    assert "no authentication" in result.stderr and "--i-know-it-is-open" in result.stderr
    assert not (tmp_path / "home").exists()  # no Dagster instance was made, nothing started
