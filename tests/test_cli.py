"""The CLI's pure parts: argument parsing and the environment a run sees."""

import os
import sys
from pathlib import Path

import pytest

from orchestration.cli import build_parser, run_environment, ui_command
from orchestration.settings import (
    DEFAULT_DAGSTER_HOME,
    DEFAULT_WAREHOUSE_PATH,
    SAMPLE_EXPORT_DIR,
    Settings,
)


def test_flags_override_environment_variables():
    args = build_parser().parse_args(
        ["run", "--export-uri", "s3://b/p", "--warehouse-path", "x/w.duckdb"]
    )
    env = run_environment(args, {"STIGG_EXPORT_URI": "/elsewhere", "DAGSTER_HOME": "/dh"})
    assert env["STIGG_EXPORT_URI"] == "s3://b/p"
    assert env["STIGG_WAREHOUSE_PATH"] == str(Path("x/w.duckdb").absolute())
    assert env["DAGSTER_HOME"] == "/dh"


def test_environment_variables_are_kept_without_flags():
    args = build_parser().parse_args(["run"])
    env = run_environment(args, {"STIGG_EXPORT_URI": "/exports/stigg"})
    assert env["STIGG_EXPORT_URI"] == "/exports/stigg"
    assert env["DAGSTER_HOME"] == str(DEFAULT_DAGSTER_HOME)


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
    env = run_environment(build_parser().parse_args(["run"]), {"PATH": "/usr/bin"})
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PATH"].endswith("/usr/bin")
