"""Redis connections: a URL, Sentinel, or the embedded server; a bounded wait at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    NoPermissionError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.config_files import StartupError
from core.embedded_redis import embedded_redis
from core.key_migration import migrate_keys
from core.redis_server import RedisProcess, RedisUnavailableError, find_redis_server, free_port
from core.sentinel import pool_options, sentinel_client, sentinel_where
from core.settings import Settings
from core.stopping import sleep_unless_stopped

# The embedded server's names stay importable from here, where callers always found them.
__all__ = [
    "POOL_SIZE", "POOL_TIMEOUT_S", "RECONNECT_ERRORS", "RedisProcess", "RedisUnavailableError",
    "StartupError", "check_redis_url", "embedded_redis", "find_redis_server", "free_port",
    "make_client", "open_redis", "public_url", "wait_for_redis", "wait_for_start",
]

log = logging.getLogger(__name__)

RECONNECT_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


# One client (one pool) serves every role of a process. A caller beyond POOL_SIZE waits for a
# free connection (up to POOL_TIMEOUT_S) instead of failing with MaxConnectionsError, as a
# burst of bot commands did; the bot bounds its own share (bot.commands.updates.MAX_RUNNING).
POOL_SIZE = 128
POOL_TIMEOUT_S = 30.0


def make_client(url: str, *, socket_timeout: float = 10.0) -> Redis:
    """Return an asyncio Redis client that retries commands across short outages."""
    retry = Retry(ExponentialWithJitterBackoff(cap=2.0, base=0.05), retries=3)
    pool = BlockingConnectionPool.from_url(
        url,
        **pool_options(retry, socket_timeout=socket_timeout, pool_size=POOL_SIZE,
                       pool_timeout_s=POOL_TIMEOUT_S),
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both


def public_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)


def check_redis_url(url: str) -> None:
    """Raise StartupError naming the problem when ``url`` is not a usable Redis URL."""
    try:
        parse_url(url)
        path = urlsplit(url).path.strip("/")
    except ValueError as exc:
        raise StartupError(f"REDIS_URL {public_url(url)!r} is not valid: {exc}") from None
    if path and not path.isdigit() and not url.startswith("unix:"):
        raise StartupError(
            f"REDIS_URL {public_url(url)!r} is not valid: database '{path}' is not a number"
        )


async def wait_for_start(
    redis: Redis, timeout_s: float, where: str, stop: asyncio.Event | None = None
) -> None:
    """Wait up to ``timeout_s`` for Redis to answer at start-up, else raise StartupError.

    A refused password can never succeed, so it fails at once. Outages after a good start are
    :func:`wait_for_redis`'s, which retries for as long as it takes.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    delay = 0.1
    while not stop.is_set():
        try:
            await asyncio.wait_for(redis.ping(), max(1.0, deadline - loop.time()))
            return
        except (AuthenticationError, AuthenticationWrongNumberOfArgsError,
                NoPermissionError) as exc:
            raise StartupError(f"Redis at {where} refused the credentials: {exc}") from None
        except (*RECONNECT_ERRORS, TimeoutError) as exc:
            last = str(exc) or type(exc).__name__
        except ResponseError as exc:
            raise StartupError(f"Redis at {where} refused us: {exc}") from None
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise StartupError(
                f"Redis at {where} unreachable for {timeout_s:.0f}s at start-up: {last} "
                "(REDIS_START_WAIT_S sets how long to wait)"
            )
        log.warning("redis at %s unreachable (%s); waiting up to %.1fs more",
                    where, last, remaining)
        await sleep_unless_stopped(stop, min(delay, remaining))
        delay = min(2.0, delay * 2)


@contextlib.asynccontextmanager
async def open_redis(
    settings: Settings, *, share_embedded: bool = True, stop: asyncio.Event | None = None
) -> AsyncIterator[Redis]:
    """Yield a client for ``REDIS_URL``, or for the embedded server when it is unset.

    Start-up that can never succeed (a malformed URL, refused credentials, Redis silent for
    ``redis_start_wait_s``) raises StartupError; ``stop`` cuts the wait short.
    """
    # Longer than the longest blocking read (XREADGROUP BLOCK) a role makes.
    socket_timeout = settings.streams.block_ms / 1000 + 10
    async with contextlib.AsyncExitStack() as stack:
        client: Redis
        if settings.redis_sentinels:
            # Sentinel hook (core/sentinel.py): the client follows the service's current primary.
            client = await stack.enter_async_context(sentinel_client(
                settings, socket_timeout=socket_timeout, pool_size=POOL_SIZE,
                pool_timeout_s=POOL_TIMEOUT_S,
            ))
            where = sentinel_where(settings)
        else:
            url = settings.redis_url
            if url is None:
                url = await stack.enter_async_context(embedded_redis(
                    settings.data_dir, share=share_embedded, wait_s=settings.redis_start_wait_s
                ))
            else:
                check_redis_url(url)
            client = make_client(url, socket_timeout=socket_timeout)
            stack.push_async_callback(client.aclose)
            where = public_url(url)
        await wait_for_start(client, settings.redis_start_wait_s, where, stop)
        if stop is None or not stop.is_set():
            # Before any role or command touches a key: older layouts are renamed once.
            await migrate_keys(client)
        yield client


async def wait_for_redis(redis: Redis, stop: asyncio.Event, cap_s: float = 5.0) -> None:
    """Block until Redis answers PING, backing off up to ``cap_s``; return early on stop."""
    delay = 0.1
    while not stop.is_set():
        try:
            await redis.ping()
            return
        except RECONNECT_ERRORS as exc:
            log.warning("redis unreachable (%s); retrying in %.1fs", exc, delay)
        await sleep_unless_stopped(stop, delay)
        delay = min(cap_s, delay * 2)


async def read_hashes(redis: Redis, names: list[str]) -> list[dict[str, str]]:
    """HGETALL of every hash in ``names``, in one round trip (an absent one reads as {})."""
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    return cast(list[dict[str, str]], await pipe.execute())
