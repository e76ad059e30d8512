"""Telegram flood limits shared by every process using one bot token, kept in Redis.

Why not PTB's AIORateLimiter: it is a per-process leaky bucket (a burst of 30 then a steady
drip), so two roles or two notifier replicas would each spend the whole 30/s budget, it does
not space messages to one private chat, and a leaky bucket can put 31 requests in one
sliding second. Here a *slot* is taken before a request and keeps counting until one period
after the answer arrived, so Telegram never sees more than ``cap`` requests in any window,
whatever the latency, and all processes share the budget through Redis (server time).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from telegram.constants import FloodLimit

from bot.telegram.errors import TelegramFailure
from core import keys

log = logging.getLogger(__name__)

# All keys share one hash tag so the scripts also run on Redis Cluster.
_NS = keys.FLOOD_NS
GLOBAL_KEY = f"{_NS}:global"
PAUSE_KEY = f"{_NS}:pause"

# KEYS: owner set, pause key, then (zset) slot keys; ARGV: member, hold_s, then one cap per zset.
# Returns {1} when every slot was taken, else {0, wait_ms, index of the limiting key (0=pause)}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ts = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ts > now then return {0, math.ceil((until_ts - now) * 1000), 0} end
local worst, which = 0, -1
for i = 3, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  local cap = tonumber(ARGV[i])
  if redis.call('ZCARD', KEYS[i]) >= cap then
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local wait = tonumber(first[2]) - now
    if wait > worst then worst, which = wait, i - 2 end
  end
end
if which >= 0 then return {0, math.ceil(worst * 1000), which} end
local hold = now + tonumber(ARGV[2])
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], hold, ARGV[1])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2])) + 120)
  redis.call('SADD', KEYS[1], KEYS[i] .. '|' .. ARGV[1])
end
redis.call('EXPIRE', KEYS[1], 86400)
return {1}
"""

# KEYS: owner set, slot keys; ARGV: member, then one period per slot key.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[i]), ARGV[1])
  redis.call('SREM', KEYS[1], KEYS[i] .. '|' .. ARGV[1])
end
return 1
"""

# KEYS: owner set; ARGV: period. Slots a dead predecessor held count as just finished.
_RESET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local n = 0
for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local sep = string.find(entry, '|', 1, true)
  redis.call('ZADD', string.sub(entry, 1, sep - 1), 'XX', now + tonumber(ARGV[1]),
             string.sub(entry, sep + 1))
  n = n + 1
end
redis.call('DEL', KEYS[1])
return n
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local target = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if target > cur then redis.call('SET', KEYS[1], tostring(target), 'EX', math.ceil(ARGV[1]) + 5) end
return 1
"""


def _nap(wait: float, which: int, group_period: float = 60.0) -> float:
    """Return how long to sleep before asking again.

    A wait far beyond the period means the slot is still held by a request in flight
    (its score is the crash-safety hold): it frees as soon as that answer arrives, so poll.
    """
    if which == 0:
        return min(wait, 5.0)
    period = group_period if which == 3 else 1.0
    if wait > period + 0.5:
        return 0.05
    return wait + 0.001


class GroupBusyError(Exception):
    """A group's per-minute budget is spent for ``wait_s`` more seconds (raised when asked to)."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"group budget spent for {wait_s:.1f}s")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Limits:
    """Telegram's published limits, as PTB lists them (edits count as messages)."""

    overall_per_s: int = FloodLimit.MESSAGES_PER_SECOND
    chat_per_s: int = FloodLimit.MESSAGES_PER_SECOND_PER_CHAT
    group_per_min: int = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP
    group_period_s: float = 60.0
    # A slot taken but never released (process killed) frees itself after this long.
    hold_s: float = 30.0


class FloodLimiter:
    """Shared slots per bot token: overall, per chat, per group; plus a global 429 pause."""

    def __init__(self, redis: Redis, owner: str, limits: Limits | None = None) -> None:
        self.redis = redis
        self.owner = owner
        self.limits = limits or Limits()
        self._owner_key = f"{_NS}:owner:{owner}"
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._reset = redis.register_script(_RESET)
        self._pause = redis.register_script(_PAUSE)
        # One waiter per process polls the shared budget at a time (FIFO), not every worker.
        self._gate = asyncio.Lock()

    async def reset_owner(self) -> int:
        """Release slots a killed predecessor with our owner name left held; return how many."""
        return int(await self._reset(keys=[self._owner_key], args=[1.0]))

    async def pause(self, seconds: float) -> None:
        """Stop every sender of this bot for ``seconds`` (a 429 retry_after applies bot-wide)."""
        await self._pause(keys=[PAUSE_KEY], args=[max(0.0, seconds)])

    async def heed(self, failure: TelegramFailure) -> bool:
        """Pause every sender when ``failure`` is a 429; return whether it was one."""
        if failure.kind != "rate_limited":
            return False
        await self.pause(failure.retry_after_s)
        return True

    def _keys(self, chat_id: int) -> tuple[list[str], list[float], list[float]]:
        keys = [GLOBAL_KEY, f"{_NS}:chat:{chat_id}"]
        caps = [float(self.limits.overall_per_s), float(self.limits.chat_per_s)]
        periods = [1.0, 1.0]
        if chat_id < 0:
            keys.append(f"{_NS}:group:{chat_id}")
            caps.append(float(self.limits.group_per_min))
            periods.append(self.limits.group_period_s)
        return keys, caps, periods

    async def _try(
        self, member: str, keys: list[str], caps: list[float]
    ) -> tuple[bool, float, int]:
        reply = await self._acquire(
            keys=[self._owner_key, PAUSE_KEY, *keys], args=[member, self.limits.hold_s, *caps]
        )
        if int(reply[0]) == 1:
            return True, 0.0, -1
        return False, int(reply[1]) / 1000.0, int(reply[2])

    @asynccontextmanager
    async def slot(self, chat_id: int, max_wait_s: float | None = None) -> AsyncIterator[None]:
        """Hold a send slot for ``chat_id``; it counts until one period after the block exits.

        While held, no other sender (any process) can message the same chat, so the block is
        also a per-chat mutex: check-then-send-then-mark inside it cannot race. With
        ``max_wait_s``, a group whose per-minute budget frees only later than that raises
        GroupBusyError instead of waiting (a caller with other work can come back later).
        """
        member = f"{self.owner}:{uuid.uuid4().hex[:12]}"
        keys, caps, periods = self._keys(chat_id)
        while True:
            async with self._gate:
                ok, wait, which = await self._try(member, keys, caps)
                # Bot-wide waits (pause or overall budget) are served in order under the gate.
                while not ok and which in (0, 1):
                    await asyncio.sleep(_nap(wait, which, self.limits.group_period_s))
                    ok, wait, which = await self._try(member, keys, caps)
            if ok:
                break
            if max_wait_s is not None and which == 3 and wait > max_wait_s:
                raise GroupBusyError(wait)
            # This chat (or group) is busy: wait outside the gate so other chats go on.
            await asyncio.sleep(_nap(wait, which, self.limits.group_period_s))
        try:
            yield
        finally:
            try:
                await asyncio.shield(
                    self._release(keys=[self._owner_key, *keys], args=[member, *periods])
                )
            except Exception as exc:
                # The slot then frees itself after hold_s; never mask the caller's outcome.
                log.warning("could not release a send slot: %s", exc)
