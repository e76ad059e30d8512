"""Consumer names of running roles: a stable ``host-role-N`` leased in Redis, and its heartbeat."""

from __future__ import annotations

import logging
import uuid

from redis.asyncio import Redis

from core import keys
from core.process_identity import ProcessId

log = logging.getLogger(__name__)


# Take a consumer-name lock over from a holder known to be dead, if nobody else did first.
_TAKE_OVER_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""


async def acquire_consumer_name(redis: Redis, role: str, ttl_s: float) -> tuple[str, str, str]:
    """Claim a stable consumer name ``host-role-N``; return (name, lock key, token).

    Each slot is a lease refreshed by the heartbeat. A process restarted on the same host takes
    the lowest slot that is free or held by a process that provably died (SIGKILL leaves its
    lease behind), so it gets its old name back at once and reads its own pending entries
    first; a live replica keeps its slot and the newcomer takes the next.
    """
    me = ProcessId.current()
    token = f"{me.encode()}|{uuid.uuid4().hex[:8]}"
    px = int(ttl_s * 1000)
    for slot in range(256):
        key = keys.consumer_lease(me.host, role, slot)
        name = f"{me.host}-{role}-{slot}"
        holder = None
        for _ in range(2):  # a lease may expire between SET NX and GET: then try it again
            if await redis.set(key, token, nx=True, px=px):
                return name, key, token
            holder = await redis.get(key)
            if holder is not None:
                break
        if not isinstance(holder, str):
            continue
        previous = ProcessId.decode(holder)
        if previous is not None and previous.is_dead() and await redis.eval(
            _TAKE_OVER_LUA, 1, key, holder, token, px
        ):
            log.info("consumer name %s taken back from pid %d, which is gone", name, previous.pid)
            return name, key, token
    raise RuntimeError(f"no free consumer slot for role {role} on {me.host}")


def heartbeat_field(role: str, consumer: str) -> str:
    """Return the field of ``keys.HEARTBEATS`` holding a role's heartbeat (a unix time)."""
    return f"{role}/{consumer}"
