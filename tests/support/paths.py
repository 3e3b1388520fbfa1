"""Where the tests find the project's inputs and keep what they leave for people to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.defs.dbt_project import WAREHOUSE_FILE
from orchestration.settings import DBT_WAREHOUSE_FOLDERS, PROJECT_ROOT

SHARED_DIR = PROJECT_ROOT.parent / "shared"


SAMPLE_EXPORT = PROJECT_ROOT / "seeds" / "sample_export"


SCREENSHOTS = Path(
    os.environ.get("STIGG_SCREENSHOT_DIR", PROJECT_ROOT / "artifacts" / "screenshots")
)


# Where the fault tests keep the line of figures they print (RELIABILITY.md quotes them).
FIGURES = Path(os.environ.get("STIGG_FIGURES_DIR", PROJECT_ROOT / "artifacts" / "figures"))


def remove_dbt_folders_of_warehouses_under(root: Path) -> None:
    """Remove each warehouse's dbt folder (dbt_project/target/warehouses/) whose warehouse lived
    under `root`, as its `warehouse.txt` says."""
    root = root.resolve()
    for owner in DBT_WAREHOUSE_FOLDERS.glob(f"*/{WAREHOUSE_FILE}"):
        if Path(owner.read_text().strip()).resolve().is_relative_to(root):
            shutil.rmtree(owner.parent, ignore_errors=True)
