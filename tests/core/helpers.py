"""Small helpers for core tests: building articles and waiting for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from core.models import Article
from core.streams import StreamConsumer
from testkit.waiting import wait_until


def article(n: int | str) -> Article:
    """Return a minimal valid article with id ``a<n>``."""
    now = datetime.now(UTC)
    return Article(
        id=f"a{n}", feed_id="test", source="Test", url=f"https://example.org/{n}",
        title=f"headline {n}", published=now, fetched=now,
    )


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
