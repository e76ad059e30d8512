"""Poll leases: pollers share the feed list, and the lease makes one of them poll a feed at a time.

A lease carries its holder's consumer name, so a lease left by a poller whose heartbeat has
gone stale (killed mid-poll), or by this owner's previous life, is taken over at once instead
of blocking the feed until the lease expires.
"""

from __future__ import annotations

import time
import uuid

from redis.asyncio.client import Pipeline

from core import keys

# Take the lease if free, or if its holder is this owner's previous life or a poller whose
# heartbeat is stale. (Two keys: on Redis Cluster the lease and heartbeats must share a slot.)
_ACQUIRE_LUA = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local holder = string.match(cur, '^(.-)|') or ''
  if holder == '' or ARGV[3] == '' then return 0 end
  if holder ~= ARGV[3] then
    local beat = redis.call('HGET', KEYS[2], 'poller/' .. holder)
    if beat and tonumber(ARGV[4]) - tonumber(beat) <= tonumber(ARGV[5]) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# Delete the lease only if it is still ours (it may have expired and been retaken).
_RELEASE_LUA = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


class FeedLeases:
    """One poller's leases, taken and given back on the caller's pipelines (no extra trip)."""

    def __init__(self, owner: str, heartbeat_ttl_s: float) -> None:
        """Lease as ``owner`` (the role's consumer name; "" never takes over a held lease)."""
        self.owner = owner
        self.heartbeat_ttl_s = heartbeat_ttl_s
        self.token = f"{owner}|{uuid.uuid4().hex}"

    def acquire(self, pipe: Pipeline, feed_id: str, ttl_s: float) -> None:
        """Queue taking ``feed_id``'s lease for ``ttl_s``; its reply is 1 when it was taken."""
        # EVAL, not a registered script: redis-py checks a pipeline's scripts with an extra
        # SCRIPT EXISTS round trip on every execute, which cost more than the script text.
        pipe.eval(_ACQUIRE_LUA, 2, keys.LEASE_PREFIX + feed_id, keys.HEARTBEATS, self.token,
                  int(ttl_s * 1000), self.owner, time.time(), self.heartbeat_ttl_s)

    def release(self, pipe: Pipeline, feed_id: str) -> None:
        """Queue giving ``feed_id``'s lease back, if it is still ours."""
        pipe.eval(_RELEASE_LUA, 1, keys.LEASE_PREFIX + feed_id, self.token)

    @property
    def retry_s(self) -> float:
        """When to look again at a feed another poller holds: once its heartbeat could be stale."""
        # So a killed poller's feeds are picked up within one heartbeat TTL.
        return max(1.0, min(30.0, self.heartbeat_ttl_s * 1.5))
