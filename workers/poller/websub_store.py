"""Each feed's WebSub subscription in Redis: one hash per feed, and the set of those feeds.

States: ``pending`` (asked, not yet verified by the hub), ``verified`` (live until
``expires``), ``failed`` or ``denied`` (retried at ``retry_at``), ``unsubscribing`` (the feed
or its hub went away; removed once the hub confirms, or after the verification timeout).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import cast

from redis.asyncio import Redis

from core import keys

# Write fields only while the subscription is still the request we made: the hub may have
# verified it (or another process replaced it) while our request was in flight.
_UPDATE_IF_REQUEST = """
if redis.call('HGET', KEYS[1], 'requested_at') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""


@dataclass(slots=True)
class Subscription:
    """One feed's subscription as stored (empty ``hub``: none)."""

    hub: str = ""
    topic: str = ""
    secret: str = ""
    state: str = ""
    requested_at: str = ""  # text, compared as stored: the key of one request
    expires: float = 0.0
    verified_at: float = 0.0
    lease_s: float = 0.0
    failures: int = 0
    retry_at: float = 0.0
    last_error: str = ""
    last_push: float = 0.0
    pushes: int = 0
    trusted: int = 0  # the hub is on the operator's feed's own origin (see websub.py)

    def live(self, now: float) -> bool:
        """Whether the hub pushes this feed now: verified and within its lease."""
        return self.state == "verified" and self.expires > now

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> Subscription:
        """Build from HGETALL output, ignoring unknown fields and bad values."""
        sub = cls()
        for f in fields(cls):
            value = raw.get(f.name)
            if value is None:
                continue
            kind = type(getattr(sub, f.name))
            try:
                setattr(sub, f.name, kind(float(value)) if kind is not str else value)
            except ValueError:
                continue
        return sub

    def to_hash(self) -> dict[str, str | int | float]:
        """Return the fields for HSET."""
        return dict(asdict(self))


async def load_subscriptions(redis: Redis, feed_ids: list[str]) -> dict[str, Subscription]:
    """Return the stored subscription of each feed (an empty one when it has none)."""
    pipe = redis.pipeline(transaction=False)
    for fid in feed_ids:
        pipe.hgetall(keys.websub_subscription(fid))
    raws = await pipe.execute()
    return {fid: Subscription.from_hash(raw) for fid, raw in zip(feed_ids, raws, strict=True)}


async def load_subscription(redis: Redis, feed_id: str) -> Subscription | None:
    """Return ``feed_id``'s subscription, or None when it has none."""
    raw = cast(dict[str, str], await redis.hgetall(keys.websub_subscription(feed_id)))
    return Subscription.from_hash(raw) if raw else None


async def subscribed_feeds(redis: Redis) -> set[str]:
    """Return the ids of every feed with a stored subscription."""
    return {str(m) for m in await redis.smembers(keys.WEBSUB_FEEDS)}


async def save_subscription(redis: Redis, feed_id: str, sub: Subscription) -> None:
    """Store the whole subscription of ``feed_id`` (replacing what was there)."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.websub_subscription(feed_id))
    pipe.hset(keys.websub_subscription(feed_id), mapping=sub.to_hash())  # type: ignore[arg-type]
    pipe.sadd(keys.WEBSUB_FEEDS, feed_id)
    await pipe.execute()


async def update_subscription(redis: Redis, feed_id: str, **changes: str | float) -> None:
    """Set some fields of ``feed_id``'s subscription."""
    await redis.hset(keys.websub_subscription(feed_id), mapping=changes)  # type: ignore[arg-type]


async def update_if_request(
    redis: Redis, feed_id: str, requested_at: str, **changes: str | float
) -> bool:
    """Set fields only while the stored request is still ``requested_at``; return if done."""
    args: list[str | float] = [requested_at]
    for name, value in changes.items():
        args += [name, value]
    done = await redis.eval(
        _UPDATE_IF_REQUEST, 1, keys.websub_subscription(feed_id), *args)
    return bool(done)


async def delete_subscription(redis: Redis, feed_id: str) -> None:
    """Forget ``feed_id``'s subscription."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.websub_subscription(feed_id))
    pipe.srem(keys.WEBSUB_FEEDS, feed_id)
    await pipe.execute()
