"""The tags a run carries, named once: the CLI sets them, the writer and the resources read them."""

from __future__ import annotations

import os
import socket

# "true" rebuilds the warehouse from the export alone: the working copy starts empty, every
# file lands again, and dbt runs with --full-refresh.
FULL_REFRESH_TAG = "stigg/full_refresh"
STARTED_BY_TAG = "stigg/started_by"
# Where the run's process lives, so a run killed with its process can be told from a live one.
HOST_TAG = "stigg/host"
PID_TAG = "stigg/pid"


def process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def is_full_refresh(tags: dict[str, str] | None) -> bool:
    return (tags or {}).get(FULL_REFRESH_TAG, "").lower() == "true"


def process_exists(pid: int) -> bool:
    """Whether a process with this pid lives on this host (the PID_TAG's, a server's, dbt's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
