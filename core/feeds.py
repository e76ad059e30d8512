"""The feed set: the ``feeds.yaml`` model and its loader, and the feeds added at run time.

The poller polls these feeds; the bot's admins list, add and remove them. Both read and
write them through this module only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from redis.asyncio import Redis
from yarl import URL

from core import keys
from core.config_files import load_yaml

FEEDS_FILE = "feeds.yaml"  # in the config folder
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class FeedConfig(BaseModel):
    """One feed: where it is, what it is called, and hints for the classifier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    url: str
    name: str
    # Hints only: the classifier decides an item's language from its text (this is its
    # prior) and its regions from the places it names (alert_regions).
    language: str = ""
    region_hints: tuple[str, ...] = ()
    interval: float | None = Field(default=None, gt=0, le=86_400)
    # A feed whose reports matter most (a wire service, a monitoring mission): polled every
    # poller.priority_interval_s (30 s) or faster, instead of the news default of 60 s.
    priority: bool = False
    enabled: bool = True
    # Feeds from the operator's file may point anywhere; those added at run time are guarded.
    trusted: bool = True

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be 1-64 chars of a-z, 0-9, '_', '.', '-'")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = URL(value.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("url must be an absolute http(s) URL")
        return str(url)

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        return value.strip().lower()


class FeedsFile(BaseModel):
    """The whole ``feeds.yaml``: a list of feeds with unique ids."""

    model_config = ConfigDict(extra="forbid")

    feeds: list[FeedConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.id in seen:
                raise ValueError(f"duplicate feed id {feed.id!r}")
            seen.add(feed.id)
        return self


def load_feeds(path: Path) -> list[FeedConfig]:
    """Load and validate ``path`` (raises core.config_files.ConfigError naming key and value)."""
    return load_yaml(path, FeedsFile).feeds


async def runtime_feeds(redis: Redis) -> list[FeedConfig]:
    """Return feeds added at run time (``/addfeed``); they are never trusted."""
    raw = cast(dict[str, str], await redis.hgetall(keys.RUNTIME_FEEDS))
    feeds = []
    for value in raw.values():
        try:
            feed = FeedConfig.model_validate_json(value)
        except ValueError:
            continue  # a bad entry must not stop the others; `feeds list` shows what loaded
        feeds.append(feed.model_copy(update={"trusted": False}))
    return feeds


async def add_runtime_feed(redis: Redis, feed: FeedConfig) -> None:
    """Store a feed added at run time (call core.urlguard.check_feed_url first)."""
    untrusted = feed.model_copy(update={"trusted": False})
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(keys.RUNTIME_FEEDS, feed.id, untrusted.model_dump_json())
        # Pollers watch this counter, so they pick the change up within seconds instead of
        # at their next full reload.
        pipe.incr(keys.FEEDS_VERSION)
        await pipe.execute()


# The feed's poll state goes with it, so a feed removed and added again starts afresh: that
# is how an admin brings back a feed the poller deactivated. Only when the feed was a run-time
# one: an id of feeds.yaml typed by mistake keeps its state.
_REMOVE_LUA = """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed == 1 then redis.call('DEL', KEYS[3]) end
redis.call('INCR', KEYS[2])
return removed
"""


async def remove_runtime_feed(redis: Redis, feed_id: str) -> bool:
    """Remove a feed added at run time, and its poll state; return whether it existed."""
    script_keys = (keys.RUNTIME_FEEDS, keys.FEEDS_VERSION, keys.feed_state(feed_id))
    removed: Any = await redis.eval(_REMOVE_LUA, len(script_keys), *script_keys, feed_id)
    return bool(removed)


async def feeds_version(redis: Redis) -> str:
    """Return the run-time feed set's change counter (empty before the first change)."""
    return str(await redis.get(keys.FEEDS_VERSION) or "")
