"""Bringing back a feed the poller deactivated: the admins' ``/reactivate FEED``.

The poller switches a feed off after ``poller.deactivate_after`` failures in a row
(``deactivated`` in its state hash ``cw:poller:feed:<id>``) and stops scheduling it.
:func:`reactivate_feed` clears that mark, the error streak and the stored next poll, and
bumps the run-time feed counter, so every poller reloads within ``poller.watch_s``, finds the
feed idle and polls it at once; it also queues a ``reactivated`` FeedEvent for the admins.
All of it in one Lua script: the event is written exactly when the mark is cleared, and two
admins reactivating at once produce one event.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from redis.asyncio import Redis

from core import keys
from core.config_files import ConfigError
from core.feeds import FEEDS_FILE, FeedConfig, load_feeds, runtime_feeds
from core.models import FeedEvent, encode

# KEYS: feed state, run-time feed counter, feeds:events. ARGV: the event's JSON.
# Deleting 'rev' (workers/poller/state.py REVISION_FIELD) tells a poller that remembers this
# feed's state that it changed: it reads it whole at its next poll.
_REACTIVATE_LUA = """
if redis.call('HGET', KEYS[1], 'deactivated') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'deactivated', '0', 'deactivated_reason', '',
           'error_streak', '0', 'next_poll', '0')
redis.call('HDEL', KEYS[1], 'rev')
redis.call('XADD', KEYS[3], '*', 'data', ARGV[1])
redis.call('INCR', KEYS[2])
return 1
"""

Outcome = Literal["reactivated", "not_deactivated", "unknown"]


@dataclass(frozen=True, slots=True)
class Reactivation:
    """What :func:`reactivate_feed` did, and the feed when it is known."""

    outcome: Outcome
    feed: FeedConfig | None = None


async def find_feed(redis: Redis, config_dir: Path, feed_id: str) -> FeedConfig | None:
    """Return the feed ``feed_id`` of feeds.yaml or of the run-time feeds, or None."""
    path = config_dir / FEEDS_FILE
    if path.exists():
        try:
            configured = await asyncio.to_thread(load_feeds, path)
        except ConfigError:
            configured = []  # the poller refuses a bad file itself; run-time feeds still count
        for feed in configured:
            if feed.id == feed_id:
                return feed
    for feed in await runtime_feeds(redis):
        if feed.id == feed_id:
            return feed
    return None


async def reactivate_feed(
    redis: Redis, config_dir: Path, feed_id: str, *, by: str = ""
) -> Reactivation:
    """Clear the deactivation of ``feed_id`` so pollers poll it now; tell the admins.

    ``by`` says who asked (kept in the event's reason). A feed no configuration names is
    ``unknown``; a known feed that is not switched off is left as it is.
    """
    feed = await find_feed(redis, config_dir, feed_id)
    if feed is None:
        return Reactivation("unknown")
    reason = f"reactivated by {by}" if by else "reactivated by an admin"
    event = FeedEvent(type="reactivated", feed_id=feed.id, at=time.time(), url=feed.url,
                      name=feed.name, reason=reason)
    script_keys = (keys.feed_state(feed.id), keys.FEEDS_VERSION, keys.FEED_EVENTS)
    done: Any = await redis.eval(_REACTIVATE_LUA, len(script_keys), *script_keys,
                                 encode(event)["data"])
    return Reactivation("reactivated" if done else "not_deactivated", feed)
