"""Dagster definitions, one module per concern, each registering what it defines with one
`@dg.definitions` function; `dg.load_from_defs_folder` loads them (orchestration/definitions.py)."""
