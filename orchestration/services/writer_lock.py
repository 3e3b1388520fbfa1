"""The warehouse's one-writer lock: an OS file lock beside the warehouse, held for a whole run.

Dagster's pool (limit 1) queues writer steps on an instance that ships our dagster.yaml. This
lock is what makes one writer true everywhere else too: under a DAGSTER_HOME of a deployment's
own, between two CLIs, and between runs rather than steps, so two runs never interleave their
landing, dbt and publishing. The kernel releases it when the holder exits, however it exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 0.5


def holder_description(run_id: str) -> str:
    return json.dumps(
        {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def current_holder(lock_path: Path) -> str:
    """Who holds (or last held) the lock, as written by the holder; '' when unknown."""
    try:
        return lock_path.read_text().strip()
    except OSError:
        return ""


@contextmanager
def hold(
    lock_path: Path, holder: str, on_wait: Callable[[str], None] = lambda holder: None
) -> Iterator[None]:
    """Hold the lock for the block; wait (never fail) while someone else holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    on_wait(current_holder(lock_path))
                    waiting = True
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def is_held(lock_path: Path) -> bool:
    """Whether a writer holds the lock right now."""
    if not lock_path.exists():
        return False
    fd = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
