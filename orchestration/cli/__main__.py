"""`python -m orchestration.cli`: the same as the `stigg-warehouse` command."""

from orchestration.cli.main import main

raise SystemExit(main())
