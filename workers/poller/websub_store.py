"""Writing each feed's WebSub subscription to Redis (its format: core/websub_state.py)."""

from __future__ import annotations

from redis.asyncio import Redis

from core import keys
from core.websub_state import Subscription

# Write fields only while the subscription is still the request we made: the hub may have
# verified it (or another process replaced it) while our request was in flight.
_UPDATE_IF_REQUEST = """
if redis.call('HGET', KEYS[1], 'requested_at') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""
# Forget the old hub of a move only while it is still the one named: a later move may have
# put another there meanwhile.
_CLEAR_OLD = """
if redis.call('HGET', KEYS[1], 'old_topic') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'old_hub', '', 'old_topic', '', 'old_asked', '0')
return 1
"""


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


async def clear_old(redis: Redis, feed_id: str, old_topic: str) -> bool:
    """Forget the old hub ``feed_id`` moved from, if ``old_topic`` is still it; return if done."""
    return bool(await redis.eval(_CLEAR_OLD, 1, keys.websub_subscription(feed_id), old_topic))


async def delete_subscription(redis: Redis, feed_id: str) -> None:
    """Forget ``feed_id``'s subscription."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.websub_subscription(feed_id))
    pipe.srem(keys.WEBSUB_FEEDS, feed_id)
    await pipe.execute()
