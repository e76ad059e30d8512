"""Pauses a stop request cuts short, and cancellations an exception hid: for role loops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``, waking at once when ``stop`` is set; return whether it is.

    Raises CancelledError first when the task was cancelled and something swallowed it (see
    :func:`raise_if_cancelled`): a loop's pause is where a lost cancellation resurfaces.
    """
    raise_if_cancelled()
    if seconds > 0 and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """Return ``work``'s result, or None as soon as ``stop`` is set (``work`` is cancelled).

    For a role's start-up (loading models in a thread can take tens of seconds on a busy
    machine): a stop then has nothing to drain and must not wait for it, or the drain
    deadline runs out and the process exits 1. A thread's work still runs to its end in the
    background; only its result is dropped.
    """
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():  # stopped first, or this wait was cancelled
            task.cancel()
    return task.result() if task.done() else None


def raise_if_cancelled(exc: BaseException | None = None) -> None:
    """Raise CancelledError when the running task was cancelled, whatever ``exc`` says.

    For loops that log an exception and go on: a library that meets a cancellation on its
    own timeout may raise TimeoutError instead (aiohttp's timers can), and a loop that took
    that for one bad round would never end; and a helper that returns an error instead of
    raising (an HTTP post's "cannot reach the hub") hides it with no exception at all.
    Python counts the cancellation requests a task still has pending; any left means it
    was asked to stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc
