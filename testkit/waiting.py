"""Waiting on an observable condition with a generous deadline, never on a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

# How often a condition is checked: often enough to add little latency, rarely enough that a
# check reading Redis costs nothing measurable.
POLL_S = 0.05


async def wait_until(
    check: Callable[[], Awaitable[object] | object], timeout: float = 20.0
) -> bool:
    """Check ``check`` (sync or async) until it is truthy or ``timeout`` passes; return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        result = bool(await value if inspect.isawaitable(value) else value)
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(POLL_S)


async def quiet(seconds: float) -> None:
    """Let ``seconds`` pass in which nothing more must happen (a stray repeat would show).

    The one deliberate pause of the tests: what follows checks that nothing else arrived,
    so there is no event to wait for. Keep it short; it proves absence only within it.
    """
    await asyncio.sleep(seconds)
