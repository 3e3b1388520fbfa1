"""`python -m benchmarks ...`: the same as `python benchmarks/run.py ...`."""

from __future__ import annotations

if __name__ == "__main__":
    from benchmarks.cli import main

    raise SystemExit(main())
