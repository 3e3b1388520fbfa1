"""Stigg's GraphQL API as a source: a pull writes files in the export's layout, which land as an
export's do (README.md beside this file)."""

from orchestration.runtime.sources.api.source import ApiSource as SOURCE

__all__ = ["SOURCE"]
