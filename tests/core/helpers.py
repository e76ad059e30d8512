"""Small helpers for core tests: running a consumer until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from core.streams import StreamConsumer
from testkit.waiting import wait_until


async def consume_until(
    consumer: StreamConsumer[Any], check: Callable[[], Awaitable[bool]], timeout: float = 20.0
) -> bool:
    """Run ``consumer`` until ``check`` holds (or ``timeout``), stop it, and return the check."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        return await wait_until(check, timeout)
    finally:
        stop.set()
        await task
