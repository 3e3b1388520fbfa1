"""Dagster definitions, one module per concern, loaded by `dg.load_from_defs_folder`."""
