"""Poll leases: pollers share the feed list, and the lease makes one of them poll a feed at a time.

A lease carries its holder's consumer name, so a lease left by a poller whose heartbeat has
gone stale (killed mid-poll), or by this owner's previous life, is taken over at once instead
of blocking the feed until the lease expires.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from redis.asyncio.client import Pipeline

from core import keys

# Take the lease if free, or if its holder is this owner's previous life or a poller whose
# heartbeat is stale; then read the feed's state hash (KEYS[3]) in the same command: a poll's
# first round trip is one command, not two. Replies {'0'} (not taken) or {'1', field, value…},
# without the field ARGV[6] (a large one the caller reads only when it needs it).
_TAKE_LUA = """
local function take()
  local cur = redis.call('GET', KEYS[1])
  if cur then
    local holder = string.match(cur, '^(.-)|') or ''
    if holder == '' or ARGV[3] == '' then return false end
    if holder ~= ARGV[3] then
      local beat = redis.call('HGET', KEYS[2], 'poller/' .. holder)
      if beat and tonumber(ARGV[4]) - tonumber(beat) <= tonumber(ARGV[5]) then return false end
    end
  end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return true
end
if not take() then return {'0'} end
local state = redis.call('HGETALL', KEYS[3])
local out = {'1'}
for i = 1, #state, 2 do
  if state[i] ~= ARGV[6] then
    out[#out + 1] = state[i]
    out[#out + 1] = state[i + 1]
  end
end
return out
"""

# Write the state fields a poll changed (ARGV[2..], field value pairs) into KEYS[2], and
# delete the lease KEYS[1] only if it is still ours (it may have expired and been retaken).
_GIVE_BACK_LUA = """
if #ARGV > 1 then redis.call('HSET', KEYS[2], unpack(ARGV, 2)) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def taken_state(reply: list[str]) -> dict[str, str] | None:
    """Return the state hash of a :meth:`FeedLeases.take` reply; None when not taken."""
    if not reply or reply[0] != "1":
        return None
    return dict(zip(reply[1::2], reply[2::2], strict=True))


class FeedLeases:
    """One poller's leases, taken and given back on the caller's pipelines (no extra trip)."""

    def __init__(self, owner: str, heartbeat_ttl_s: float) -> None:
        """Lease as ``owner`` (the role's consumer name; "" never takes over a held lease)."""
        self.owner = owner
        self.heartbeat_ttl_s = heartbeat_ttl_s
        self.token = f"{owner}|{uuid.uuid4().hex}"

    def take(
        self, pipe: Pipeline, feed_id: str, ttl_s: float, state_key: str, *, skip: str = ""
    ) -> None:
        """Queue taking ``feed_id``'s lease for ``ttl_s`` and reading ``state_key``.

        The field ``skip`` of the hash is left out of the reply, which goes through
        :func:`taken_state`.
        """
        # EVAL, not a registered script: redis-py checks a pipeline's scripts with an extra
        # SCRIPT EXISTS round trip on every execute, which cost more than the script text.
        pipe.eval(_TAKE_LUA, 3, keys.LEASE_PREFIX + feed_id, keys.HEARTBEATS, state_key,
                  self.token, int(ttl_s * 1000), self.owner, time.time(), self.heartbeat_ttl_s,
                  skip)

    def give_back(
        self, pipe: Pipeline, feed_id: str, state_key: str, changed: Mapping[str, object]
    ) -> None:
        """Queue writing ``changed`` into ``state_key`` and giving the lease back, if ours."""
        pairs = [part for name, value in changed.items() for part in (name, value)]
        pipe.eval(_GIVE_BACK_LUA, 2, keys.LEASE_PREFIX + feed_id, state_key, self.token,
                  *pairs)  # type: ignore[arg-type]

    @property
    def retry_s(self) -> float:
        """When to look again at a feed another poller holds: once its heartbeat could be stale."""
        # So a killed poller's feeds are picked up within one heartbeat TTL.
        return max(1.0, min(30.0, self.heartbeat_ttl_s * 1.5))
