"""Pauses a stop request cuts short, and cancellations an exception hid: for role loops."""

from __future__ import annotations

import asyncio
import contextlib


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``, waking at once when ``stop`` is set; return whether it is."""
    if seconds > 0 and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


def raise_if_cancelled(exc: BaseException) -> None:
    """Raise CancelledError when the running task was cancelled, whatever ``exc`` says.

    For loops that log an exception and go on: a library that meets a cancellation on its
    own timeout may raise TimeoutError instead (aiohttp's timers can), and a loop that took
    that for one bad round would never end. Python counts the cancellation requests a task
    still has pending; any left means it was asked to stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc
