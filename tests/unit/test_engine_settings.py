"""The engine setting and what follows from it, as pure functions (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestration.cli.main import build_parser
from orchestration.cli.run import run_config, run_settings
from orchestration.runtime import dbt_build
from orchestration.runtime.engines.spark import server as spark_server
from orchestration.runtime.engines.spark.engine import dbt_vars as spark_dbt_vars
from orchestration.runtime.engines.spark.engine import without_secrets
from orchestration.settings import Settings

TOKEN_REMOTE = "sc://workspace.example.com:443/;token=dapi-SECRET;use_ssl=true"


def test_duckdb_is_the_default_engine_and_spark_is_chosen_by_variable_or_flag():
    assert Settings.from_env({}).engine == "duckdb"
    assert Settings.from_env({"STIGG_ENGINE": "Spark"}).engine == "spark"
    args = build_parser().parse_args(["run", "--engine", "spark"])
    assert run_settings(args, {"STIGG_ENGINE": "duckdb"}).engine == "spark"


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(ValueError, match="STIGG_ENGINE='snowflake'"):
        Settings.from_env({"STIGG_ENGINE": "snowflake"})


def test_the_engine_flag_reaches_both_resources_as_run_config():
    config = run_config(build_parser().parse_args(["run", "--engine", "spark"]))
    assert config["resources"]["warehouse"]["config"]["engine"] == "spark"
    assert config["resources"]["published"]["config"]["engine"] == "spark"


def test_the_local_spark_server_lives_beside_the_warehouse_and_the_remote_only_in_the_environment():
    settings = Settings.from_env({"STIGG_WAREHOUSE_PATH": "/data/wh/stigg_warehouse.duckdb"})
    assert settings.spark_local_dir == Path("/data/wh/stigg_warehouse_spark")
    assert settings.spark_remote is None
    remote = Settings.from_env({"STIGG_SPARK_REMOTE": TOKEN_REMOTE}).spark_remote
    assert remote == TOKEN_REMOTE


def test_a_configured_remote_never_reaches_dbt_arguments_and_the_local_one_does():
    configured = Settings.from_env({"STIGG_ENGINE": "spark", "STIGG_SPARK_REMOTE": TOKEN_REMOTE})
    variables = spark_dbt_vars(configured, TOKEN_REMOTE, "b")
    args = dbt_build.dbt_build_args(configured, variables, target="spark", full_refresh=False)
    assert "SECRET" not in " ".join(args)
    assert args[:3] == ["build", "--target", "spark"]
    assert json.loads(args[args.index("--vars") + 1]) == {
        "stigg_build_slot": "b",
        "stigg_check_scope": "all",
    }
    local = Settings.from_env({"STIGG_ENGINE": "spark"})
    assert spark_dbt_vars(local, "sc://127.0.0.1:4242", "a")["stigg_spark_remote"] == (
        "sc://127.0.0.1:4242"
    )


def test_a_remote_is_shown_without_its_token():
    assert without_secrets(TOKEN_REMOTE) == "sc://workspace.example.com:443"
    assert without_secrets("sc://127.0.0.1:15002") == "sc://127.0.0.1:15002"


def test_the_local_server_binds_to_loopback_and_keeps_its_state_in_its_folder(tmp_path):
    command = spark_server.server_command(tmp_path, 4242)
    conf = dict(c.split("=", 1) for c in command if "=" in c and c.startswith("spark."))
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert conf["spark.connect.grpc.binding.port"] == "4242"
    assert conf["spark.sql.warehouse.dir"] == str(tmp_path / "warehouse")
    assert str(tmp_path / "metastore_db") in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert spark_server.running_server(tmp_path) is None  # no state file: nothing running


def test_spark_session_settings_are_written_once_in_the_profile_and_the_server_takes_them(
    tmp_path,
):
    from orchestration.runtime.engines.spark.session_settings import session_settings

    settings = session_settings()
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert settings["spark.sql.sources.partitionOverwriteMode"] == "dynamic"
    assert "spark.remote" not in settings  # the address, which the profile reads apart
    command = spark_server.server_command(tmp_path, 4242)
    assert {f"{key}={value}" for key, value in settings.items()} <= set(command)
