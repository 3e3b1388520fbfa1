"""Where the tests find the project's inputs and keep what they leave for people to look at."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

SHARED_DIR = PROJECT_ROOT.parent / "shared"


SAMPLE_EXPORT = PROJECT_ROOT / "seeds" / "sample_export"


SCREENSHOTS = Path(
    os.environ.get("STIGG_SCREENSHOT_DIR", PROJECT_ROOT / "artifacts" / "screenshots")
)


# Where the fault tests keep the line of figures they print (RELIABILITY.md quotes them).
FIGURES = Path(os.environ.get("STIGG_FIGURES_DIR", PROJECT_ROOT / "artifacts" / "figures"))
