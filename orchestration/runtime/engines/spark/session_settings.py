"""Spark's session settings, written once: the `server_side_parameters` of profiles.yml's spark
target, which dbt's sessions use. A run's and a reader's own sessions (tables.connect) and the
local server's defaults (server.server_command) read them from there."""

from __future__ import annotations

from functools import cache

import yaml

from orchestration.settings import PROJECT_ROOT

PROFILES = PROJECT_ROOT / "profiles.yml"
_ADDRESS = "spark.remote"  # the server's address, not a setting of its sessions


@cache
def session_settings() -> dict[str, str]:
    profile = yaml.safe_load(PROFILES.read_text())
    parameters = profile["stigg_warehouse"]["outputs"]["spark"]["server_side_parameters"]
    return {key: str(value) for key, value in parameters.items() if key != _ADDRESS}
