"""Per-feed poll state in Redis: validators, health, schedule, and the admin event stream."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from typing import cast

from redis.asyncio import Redis

from core import keys
from workers.poller.config import FEEDS_VERSION_KEY

EVENTS_MAXLEN = 10_000


@dataclass(slots=True)
class FeedState:
    """What the poller remembers about one feed between polls (one Redis hash)."""

    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    item_hashes: str = ""  # hashes of the last body's items (see items.py)
    recent_times: str = ""  # publish times of recent items, for learning the interval
    publisher_min_s: float = 0.0  # <ttl> / sy:updatePeriod of the feed
    last_success: float = 0.0
    last_attempt: float = 0.0
    last_status: int = 0
    last_error: str = ""
    last_error_kind: str = ""
    last_error_at: float = 0.0
    error_streak: int = 0
    errors_total: int = 0
    polls_total: int = 0
    interval_s: float = 0.0
    next_poll: float = 0.0
    newest_item: float = 0.0
    deactivated: int = 0
    deactivated_reason: str = ""
    moved_to: str = ""

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> FeedState:
        """Build from HGETALL output, ignoring unknown fields and bad values."""
        state = cls()
        for f in fields(cls):
            value = raw.get(f.name)
            if value is None:
                continue
            try:
                kind = type(getattr(state, f.name))
                setattr(state, f.name, kind(float(value)) if kind is not str else value)
            except ValueError:
                continue
        return state

    def to_hash(self) -> dict[str, str | int | float]:
        """Return the fields for HSET."""
        return dict(asdict(self))


def state_key(feed_id: str) -> str:
    """Return the Redis key of a feed's state hash."""
    return keys.feed_state(feed_id)


async def load_state(redis: Redis, feed_id: str) -> FeedState:
    """Return the stored state of ``feed_id`` (defaults when never polled)."""
    raw = await redis.hgetall(state_key(feed_id))
    return FeedState.from_hash(cast(dict[str, str], raw))


async def save_state(redis: Redis, feed_id: str, state: FeedState) -> None:
    """Store the whole state of ``feed_id``."""
    await redis.hset(state_key(feed_id), mapping=state.to_hash())  # type: ignore[arg-type]


async def load_states(redis: Redis, feed_ids: list[str]) -> dict[str, FeedState]:
    """Return the states of many feeds in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for fid in feed_ids:
        pipe.hgetall(state_key(fid))
    raws = await pipe.execute()
    return {fid: FeedState.from_hash(raw) for fid, raw in zip(feed_ids, raws, strict=True)}


async def record_event(redis: Redis, event: str, feed_id: str, **details: str) -> None:
    """Append an admin-facing event (e.g. ``deactivated``) to the ``feeds:events`` stream."""
    fields_ = {"type": event, "feed_id": feed_id, "at": f"{time.time():.0f}", **details}
    await redis.xadd(keys.FEED_EVENTS, fields_, maxlen=EVENTS_MAXLEN, approximate=True)  # type: ignore[arg-type]


async def reactivate(redis: Redis, feed_id: str) -> bool:
    """Re-enable a deactivated feed for its next scheduling pass; return whether it was off."""
    key = state_key(feed_id)
    was = await redis.hget(key, "deactivated")
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"deactivated": 0, "error_streak": 0, "next_poll": 0})
        pipe.incr(FEEDS_VERSION_KEY)  # pollers reschedule it within seconds
        await pipe.execute()
    if was == "1":
        await record_event(redis, "reactivated", feed_id)
        return True
    return False
