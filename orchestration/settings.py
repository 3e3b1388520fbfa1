"""Configuration from environment variables, with safe defaults. The bottom of the import graph.

| variable | default |
| --- | --- |
| STIGG_EXPORT_URI | the sample export in `seeds/sample_export` |
| STIGG_WAREHOUSE_PATH | `warehouse/stigg_warehouse.duckdb` in the project |
| DAGSTER_HOME | `dagster_home/` in the project (it ships our dagster.yaml) |
| STIGG_DUCKDB_MEMORY_LIMIT | DuckDB's own default (80% of RAM) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SAMPLE_EXPORT_DIR = PROJECT_ROOT / "seeds" / "sample_export"
DEFAULT_WAREHOUSE_PATH = PROJECT_ROOT / "warehouse" / "stigg_warehouse.duckdb"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / "dagster_home"

# dbt reads the DuckDB file to build from this variable (see profiles.yml).
DBT_DATABASE_ENV = "STIGG_DBT_DATABASE_PATH"

# The warehouse's schemas. DuckDB names a file's catalog after its stem, so a file named
# like a schema (stigg.duckdb) would make `stigg.CUSTOMERS` ambiguous for every analyst.
WAREHOUSE_SCHEMAS = ("raw", "staging", "stigg", "analytics", "meta")


@dataclass(frozen=True)
class Settings:
    export_uri: str
    warehouse_path: Path
    duckdb_memory_limit: str | None = None

    def __post_init__(self) -> None:
        stem = self.warehouse_path.name.split(".")[0].lower()
        if stem in WAREHOUSE_SCHEMAS:
            raise ValueError(
                f"STIGG_WAREHOUSE_PATH {self.warehouse_path} is named like the warehouse's "
                f"schema {stem!r}; DuckDB would name the database {stem!r} too and make "
                f"`{stem}.<table>` ambiguous. Choose another file name, e.g. stigg_warehouse.duckdb."
            )

    @property
    def build_path(self) -> Path:
        """The working copy that runs build into, before it is published at warehouse_path."""
        return self.warehouse_path.with_name(self.warehouse_path.name + ".build")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            export_uri=env.get("STIGG_EXPORT_URI") or str(SAMPLE_EXPORT_DIR),
            warehouse_path=Path(
                env.get("STIGG_WAREHOUSE_PATH") or DEFAULT_WAREHOUSE_PATH
            ).absolute(),
            duckdb_memory_limit=env.get("STIGG_DUCKDB_MEMORY_LIMIT") or None,
        )


def dagster_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).absolute()
