"""The benchmark's documented entry point: `uv run python benchmarks/run.py [RUN ...] [options]`.

The same as `uv run python -m benchmarks ...`; `--help` lists the options, and the package's
docstring (benchmarks/__init__.py) says what each figure is.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts benchmarks/ itself first on the path, where the package's
    # modules (cli, runs, spark, ...) would shadow any top-level module of those names: put the
    # project's root, which holds the package, there instead.
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path[0] = str(here.parent)
    elif str(here.parent) not in sys.path:
        sys.path.insert(0, str(here.parent))
    from benchmarks.cli import main

    raise SystemExit(main())
