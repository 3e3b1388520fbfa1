"""The engines a warehouse is built with, and the sources it is landed from. A line here is the
whole registration: the package it names holds the plug-in (`ENGINE`, which follows `Engine` in
runtime/engines/base.py; `SOURCE`, which follows `Source` in runtime/sources/base.py), imported
when first used. Nothing else names one: settings (STIGG_ENGINE, STIGG_SOURCE) and the CLI's
--engine and --source take their choices from here.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

ENGINES: dict[str, str] = {
    "duckdb": "orchestration.runtime.engines.duckdb",
    "spark": "orchestration.runtime.engines.spark",
}
DEFAULT_ENGINE = "duckdb"

SOURCES: dict[str, str] = {
    "export": "orchestration.runtime.sources.export",
    "api": "orchestration.runtime.sources.api",
}
DEFAULT_SOURCE = "export"

# The CLI commands that an engine adds (`stigg-warehouse <name>`): name -> the module that holds
# `name`, `add_parser(subcommands)` and `run(args) -> exit code`.
ENGINE_COMMANDS: dict[str, str] = {
    "spark-server": "orchestration.runtime.engines.spark.command",
}


def engine_class(name: str) -> Any:
    return importlib.import_module(ENGINES[name]).ENGINE


def source_class(name: str) -> Any:
    return importlib.import_module(SOURCES[name]).SOURCE


def open_engine(settings) -> Any:
    """The engine a run of `settings` writes with (it connects when first used)."""
    return engine_class(settings.engine)(settings)


def open_source(settings) -> Any:
    return source_class(settings.source)(settings)


def engine_commands() -> list[ModuleType]:
    return [importlib.import_module(module) for module in ENGINE_COMMANDS.values()]
