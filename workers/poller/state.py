"""Per-feed poll state in Redis (validators, health, schedule), and the admins' feed events."""

from __future__ import annotations

import operator
import time
import uuid
from dataclasses import dataclass, fields
from typing import cast

from redis.asyncio import Redis

from core import keys
from core.models import FeedEvent, FeedEventType
from core.redis_conn import read_hashes
from core.streams import publish


@dataclass(slots=True)
class FeedState:
    """What the poller remembers about one feed between polls (one Redis hash)."""

    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    item_hashes: str = ""  # hashes of the last body's items (see items.py)
    recent_times: str = ""  # publish times of recent items, for learning the interval
    publisher_min_s: float = 0.0  # <ttl> / sy:updatePeriod of the feed
    max_age_s: float = 0.0  # Cache-Control max-age of its last successful response
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
    # Set after deactivate_after failures in a row; an admin's /reactivate clears it
    # (core/feed_reactivate.py), as does removing a run-time feed (which drops this hash).
    deactivated: int = 0
    deactivated_reason: str = ""
    moved_to: str = ""

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> FeedState:
        """Build from HGETALL output, ignoring unknown fields and bad values."""
        state = cls()
        for name, kind in _FIELD_KINDS:
            value = raw.get(name)
            if value is None:
                continue
            if kind is str:
                setattr(state, name, value)
                continue
            try:
                setattr(state, name, kind(float(value)))
            except ValueError:
                continue
        return state

    def to_hash(self) -> dict[str, str | int | float]:
        """Return the fields for HSET, with a new revision (REVISION_FIELD)."""
        # Not dataclasses.asdict: it deep-copies every value, a third of a 304 poll's CPU.
        out: dict[str, str | int | float] = dict(zip(_FIELD_NAMES, _values(self), strict=True))
        out[REVISION_FIELD] = uuid.uuid4().hex  # a poller's remembered state is stale now
        return out

    def copy(self) -> FeedState:
        """Return a copy (the values are immutable: a shallow copy is a full one)."""
        return FeedState(*_values(self))

    def changes(self, before: FeedState) -> dict[str, str | int | float]:
        """Return the fields whose value differs from ``before`` (the state as last read).

        A poll that found nothing new changes four or five of them: writing only those costs
        a fifth of writing the whole hash, and leaves alone fields another writer (an admin's
        /reactivate) set meanwhile that this poll did not touch.
        """
        # Values, not their stored text: "600" read back as 600.0 is no change.
        return {name: value for name, value, old in zip(_FIELD_NAMES, _values(self),
                                                        _values(before), strict=True)
                if value != old}


_FIELD_NAMES = tuple(f.name for f in fields(FeedState))
# Every field at once, in _FIELD_NAMES order, in C: copy() and changes() run on every poll.
_values = operator.attrgetter(*_FIELD_NAMES)
_DEFAULTS = tuple((name, getattr(FeedState(), name)) for name in _FIELD_NAMES)
# Each field's type, read once from the defaults (from_hash runs on every poll).
_FIELD_KINDS = tuple((name, type(default)) for name, default in _DEFAULTS)
# Read only when a changed body needs it: up to 500 item hashes, of no use to a 304.
LAZY_FIELD = "item_hashes"
# A revision the poller writes with every state it gives back (lease.py): a poller that
# finds the hash still at the revision it wrote knows its state without reading it. So
# every other writer of the hash must change or delete this field (to_hash() writes a new
# one; an admin's /reactivate, core/feed_reactivate.py, deletes it; removing a run-time
# feed deletes the hash).
REVISION_FIELD = "rev"


async def load_state(redis: Redis, feed_id: str) -> FeedState:
    """Return the stored state of ``feed_id`` (defaults when never polled)."""
    raw = await redis.hgetall(keys.feed_state(feed_id))
    return FeedState.from_hash(cast(dict[str, str], raw))


async def save_state(redis: Redis, feed_id: str, state: FeedState) -> None:
    """Store the whole state of ``feed_id``."""
    await redis.hset(keys.feed_state(feed_id), mapping=state.to_hash())  # type: ignore[arg-type]


async def load_states(redis: Redis, feed_ids: list[str]) -> dict[str, FeedState]:
    """Return the states of many feeds in one round trip."""
    raws = await read_hashes(redis, [keys.feed_state(fid) for fid in feed_ids])
    return {fid: FeedState.from_hash(raw) for fid, raw in zip(feed_ids, raws, strict=True)}


async def record_event(
    redis: Redis, event: FeedEventType, feed_id: str, *, url: str = "", name: str = "",
    reason: str = "", kind: str = "",
) -> None:
    """Tell the admins about ``feed_id`` (e.g. it was deactivated) on ``feeds:events``."""
    # No length cap: as on every stream, the consumer trims what its group has read.
    message = FeedEvent(type=event, feed_id=feed_id, at=time.time(), url=url, name=name,
                        reason=reason, kind=kind)
    await publish(redis, keys.FEED_EVENTS, message)
