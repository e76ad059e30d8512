"""Small helpers for core tests: a consumer run until a condition holds, the ops server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from core.health import run as health_role
from core.lifecycle import run_roles
from core.redis_conn import free_port
from core.settings import Settings
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


async def fetch(url: str) -> tuple[int, str, str]:
    """GET ``url``; return status, content type and body."""
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


@asynccontextmanager
async def health_role_running(
    redis_url: str, data_dir: Path, *, up_path: str = "/healthz"
) -> AsyncIterator[str]:
    """Run the health role on a free port until the block ends; yield its base URL.

    It is up once ``up_path`` answers 200 (``/readyz``: every check has run once).
    """
    settings = Settings(redis_url=redis_url, data_dir=data_dir, health_port=free_port())
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_roles(settings, [("health", health_role)], stop=stop, install_signals=False)
    )
    base = f"http://127.0.0.1:{settings.health_port}"

    async def up() -> bool:
        try:
            return (await fetch(base + up_path))[0] == 200
        except aiohttp.ClientError:
            return False

    try:
        assert await wait_until(up), f"the health role did not answer {up_path}"
        yield base
    finally:
        stop.set()
        await task
