"""Delayed retries of delivery jobs: their backoff, and the jobs parked until due.

Parked jobs are a sorted set by due time, moved back onto the stream.

A job that keeps failing with transient errors (5xx, timeouts) is parked here instead of
sleeping inside the stream handler, where its backoff would hold up the whole batch of
deliveries read with it. Moving a due job back is one atomic script (remove, then XADD), so a
job is never lost nor queued twice by two notifier replicas.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from redis.asyncio import Redis

from core import keys
from core.redis_conn import RECONNECT_ERRORS
from core.stopping import sleep_unless_stopped

log = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    """Backoff of transient failures, and when a busy group is deferred rather than awaited.

    A transient failure parks the job for ``delay(attempt)``; after ``attempts`` parked
    rounds (about 40 minutes with the defaults) it is recorded as a permanent failure.
    """

    # A group whose 20 messages/min are spent for longer than this is retried later, rather
    # than holding a sender (and the batch it belongs to) for up to a minute.
    defer_after_s: float = 3.0
    attempts: int = 16
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter."""
        raw: float = min(self.cap_s, self.base_s * 2 ** min(attempt, 30))
        return raw * (0.75 + random.random() / 2)


# KEYS: zset, stream; ARGV: member, delay in seconds. Scored by Redis server time, as the
# mover compares with it: hosts with skewed clocks still agree on what is due.
_SCHEDULE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""

# KEYS: zset, stream; ARGV: batch size. Returns how many jobs went back onto the stream.
_MOVE_DUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('XADD', KEYS[2], '*', 'data', member)
end
return #due
"""


class RetryQueue:
    """Parks encoded stream messages until due, then appends them to ``stream`` again."""

    def __init__(
        self, redis: Redis, stream: str, *, interval_s: float = 0.5, batch: int = 500
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.key = keys.retry_queue(stream)
        self.interval_s = interval_s
        self.batch = batch
        self._schedule = redis.register_script(_SCHEDULE)
        self._move = redis.register_script(_MOVE_DUE)

    async def schedule(self, data: str, delay_s: float) -> None:
        """Queue ``data`` (a message's ``data`` field) for the stream in ``delay_s`` seconds."""
        await self._schedule(keys=[self.key, self.stream], args=[data, max(0.0, delay_s)])

    async def waiting(self) -> int:
        """Jobs parked now."""
        return int(await self.redis.zcard(self.key))

    async def move_due(self) -> int:
        """Put every due job back onto the stream; return how many."""
        moved = 0
        while True:
            n = int(await self._move(keys=[self.key, self.stream], args=[self.batch]))
            moved += n
            if n < self.batch:
                return moved

    async def run(self, stop: asyncio.Event) -> None:
        """Move due jobs every ``interval_s`` until ``stop``."""
        while not stop.is_set():
            try:
                moved = await self.move_due()
                if moved:
                    log.info("%d delivery jobs back from the retry queue", moved)
            except RECONNECT_ERRORS as exc:
                # Nothing is lost: the jobs stay parked until Redis answers again.
                log.warning("retry queue: redis unavailable (%s)", type(exc).__name__)
            await sleep_unless_stopped(stop, self.interval_s)
