"""`stigg-dbt`: dbt's own command line, as a run's dbt build starts it (settings.dbt_executable).

The same `dbt` in every way but one: as it exits, Python's collector makes no last pass over dbt's
parsed project (gc.freeze), which took about 0.4 s after the build had ended. Its log files are
flushed and closed at exit as usual.
"""

from __future__ import annotations

import gc

from dbt.cli.main import cli


def main() -> None:
    try:
        cli()
    finally:
        gc.freeze()
