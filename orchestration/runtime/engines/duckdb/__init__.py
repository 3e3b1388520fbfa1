"""The DuckDB engine: one warehouse file, built in a working copy and published by a rename.
`ENGINE` is imported when first asked for."""


def __getattr__(name: str):
    if name == "ENGINE":
        from orchestration.runtime.engines.duckdb.engine import DuckDBEngine

        return DuckDBEngine
    raise AttributeError(name)
