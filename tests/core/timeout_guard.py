"""A per-test time limit, so a hung test fails with its stack instead of stalling CI."""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Iterator
from types import FrameType

import pytest


def time_limit(default_s: int) -> Iterator[None]:
    """Fail the running test after ``default_s`` seconds (``CW_TEST_TIMEOUT_S`` overrides).

    SIGALRM interrupts the main thread wherever it waits, the event loop's select included;
    0 turns the limit off (for a debugger).
    """
    limit = int(os.environ.get("CW_TEST_TIMEOUT_S", default_s))
    if limit <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        stack = "".join(traceback.format_stack(frame)) if frame else ""
        pytest.fail(f"test exceeded its {limit}s limit; it was here:\n{stack}", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
