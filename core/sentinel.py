"""Redis through Sentinel: a client following the primary; WAIT on writes a failover must keep.

Replication is asynchronous: a promoted replica holds the old primary's writes up to some
moment, in order. State inside Redis stays consistent with itself; what can disagree is
what a role did outside Redis, or what it wrote on the new primary after the last writes on
the old one were lost. Two such writes matter:

- the poller's publish: if its stream entries are lost while the ``done`` dedupe marks (or
  the feed's new validators) reach the new primary, the article is never queued again; so
  entries and marks go in one pipeline (one primary), and the validators wait for WAIT;
- the notifier's sent markers: a lost marker sends the same Telegram message twice.

So a role WAITs until a replica holds those few writes (see :class:`ReplicaWait`); every
other write is redone by at-least-once delivery. Sentinel promotes the replica with the
most data, so one acknowledging replica is enough.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import keys
from core.settings import Settings

log = logging.getLogger(__name__)

# Commands are retried for about 15 s (EqualJitterBackoff, 0.5-1 s apart once at its cap),
# long enough to ride through a failover whose down-after-milliseconds is a few seconds:
# roles then never see the primary change.
COMMAND_RETRIES = 25


def pool_options(
    retry: Retry, *, socket_timeout: float, pool_size: int, pool_timeout_s: float
) -> dict[str, Any]:
    """The pool and connection options of every client, through a URL or through Sentinel.

    Here rather than in core.redis_conn, which imports this module.
    """
    return {
        "max_connections": pool_size,
        "timeout": pool_timeout_s,
        "decode_responses": True,
        "retry": retry,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_connect_timeout": 2.0,
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
    }


class ReplicaWait:
    """WAIT for ``replicas`` replicas after the writes a failover must not lose.

    A primary without enough replicas (the old one died and no replica came back) would make
    every WAIT run into its timeout: after one such WAIT the waiting pauses, and ROLE is
    asked every ``recheck_s`` whether replicas are back.
    """

    def __init__(self, replicas: int, timeout_ms: int, recheck_s: float = 5.0) -> None:
        """Wait for ``replicas`` acknowledgements, at most ``timeout_ms`` per WAIT."""
        self.replicas = replicas
        self.timeout_ms = timeout_ms
        self.recheck_s = recheck_s
        self.degraded = False
        self._next_check = 0.0

    async def active(self, redis: Redis) -> bool:
        """True when the next protected write should WAIT (re-checking replicas if paused)."""
        if not self.degraded:
            return True
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.recheck_s
        role = await redis.role()
        if role and role[0] == "master" and len(role[2]) >= self.replicas:
            self.degraded = False
            log.info("redis primary has %d replica(s) again: waiting for them resumes",
                     len(role[2]))
        return not self.degraded

    async def _run_waiting(self, pipe: Pipeline) -> bool:
        """Run ``pipe`` with WAIT appended; True when enough replicas acknowledged its writes.

        ``pipe`` is not a transaction: WAIT does not block inside MULTI.
        """
        pipe.wait(self.replicas, self.timeout_ms)
        acked = (await pipe.execute())[-1]
        if isinstance(acked, int) and acked >= self.replicas:
            return True
        if not self.degraded:
            self.degraded = True
            self._next_check = time.monotonic() + self.recheck_s
            log.warning(
                "only %s of %d redis replica(s) acknowledged within %d ms: writes are not "
                "waited for until replicas are back (checked every %.0f s)",
                acked, self.replicas, self.timeout_ms, self.recheck_s,
            )
        return False

    async def execute(self, redis: Redis, pipe: Pipeline) -> bool:
        """Run a pipeline (not a transaction) ending in WAIT; True when replicas hold it.

        One pipeline, so a retry after a broken connection redoes its writes and the WAIT
        together on whichever primary is current. While paused, it runs without WAIT.
        """
        if not await self.active(redis):
            await pipe.execute()
            return True
        return await self._run_waiting(pipe)

    async def after(self, redis: Redis) -> bool:
        """WAIT for writes already made on other connections; True when replicas hold them.

        WAIT counts from the last write of its own connection, so a probe write goes first:
        its offset is past every write whose reply we already have.
        """
        if not await self.active(redis):
            return True
        pipe = redis.pipeline(transaction=False)
        pipe.set(keys.REPLICA_PROBE, "1")
        return await self._run_waiting(pipe)


class PrimaryConnection(SentinelManagedConnection):
    """A connection that asks the sentinels for the primary every time it opens a socket.

    redis-py 8.2 reconnects a broken connection through ``connect_check_health``, which
    skips the Sentinel lookup and dials the dead primary again until the retries run out
    (redis/redis-py#3874): the lookup belongs where the socket is opened.
    """

    async def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        """Open the socket once: a reconnect happens inside a command's retry loop already."""
        # Without this, a reconnect nests COMMAND_RETRIES attempts in each command retry.
        await super().connect_check_health(check_health=check_health, retry_socket_connect=False)

    async def _connect(self) -> None:
        if self.connection_pool.is_master:
            self.host, self.port = await self.connection_pool.get_master_address()
        await super()._connect()  # type: ignore[no-untyped-call]


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool that waits for a free connection, as make_client's pool does."""


class FailoverRedis(Redis):
    """A client on the Sentinel's current primary, carrying the replica-wait policy."""

    replica_wait: ReplicaWait | None = None


def replica_wait(redis: Redis) -> ReplicaWait | None:
    """The WAIT policy of a Sentinel client; None for any other client (no waiting)."""
    return redis.replica_wait if isinstance(redis, FailoverRedis) else None


def sentinel_where(settings: Settings) -> str:
    """Name the service and its sentinels for messages (no password)."""
    hosts = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
    return f"sentinel service {settings.redis_sentinel_service!r} ({hosts})"


@contextlib.asynccontextmanager
async def sentinel_client(
    settings: Settings, *, socket_timeout: float, pool_size: int, pool_timeout_s: float
) -> AsyncIterator[Redis]:
    """Yield a client that always talks to the current primary of the Sentinel service."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    sentinel_password = (
        settings.redis_sentinel_password.get_secret_value()
        if settings.redis_sentinel_password else None
    )
    sentinel_kwargs: dict[str, Any] = {"socket_connect_timeout": 2.0, "socket_timeout": 2.0}
    if sentinel_password:
        sentinel_kwargs["password"] = sentinel_password
    retry = Retry(EqualJitterBackoff(cap=1.0, base=0.05), retries=COMMAND_RETRIES)
    sentinels = list(settings.redis_sentinels)
    async with Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs) as sentinel:
        # The pool asks the sentinels for the primary on every new connection, and drops its
        # connections on ReadOnlyError: a role follows a promotion by retrying its command.
        client: FailoverRedis = sentinel.master_for(
            settings.redis_sentinel_service,
            redis_class=FailoverRedis,
            connection_pool_class=BlockingSentinelPool,
            connection_class=PrimaryConnection,
            password=password,
            **pool_options(retry, socket_timeout=socket_timeout, pool_size=pool_size,
                           pool_timeout_s=pool_timeout_s),
        )
        if settings.redis_wait_replicas:
            client.replica_wait = ReplicaWait(
                settings.redis_wait_replicas, settings.redis_wait_timeout_ms
            )
        log.info("redis through %s; WAIT for %d replica(s)",
                 sentinel_where(settings), settings.redis_wait_replicas)
        try:
            yield client
        finally:
            await client.aclose()
