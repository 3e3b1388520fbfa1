"""Waiting for something another process holds, reported once."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_while(
    reason_to_wait: Callable[[], str | None],
    report: Callable[[str], None],
    timeout_seconds: float = 6 * 3600,
) -> None:
    """Wait while `reason_to_wait()` gives a reason, reporting the first one once; TimeoutError
    after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    reported = False
    while (reason := reason_to_wait()) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"Still waiting after {timeout_seconds:.0f}s: {reason}")
        if not reported:
            report(f"Waiting for {reason}")
            reported = True
        time.sleep(1)
