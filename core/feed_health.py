"""Feed health for readiness: how many of the enabled feeds are failing."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from core import keys
from core.config_files import ConfigError, config_file
from core.feeds import FEEDS_FILE, load_feeds, runtime_feeds


@dataclass(frozen=True)
class FeedHealth:
    """How many of the enabled feeds are failing (error streak or deactivated)."""

    failing: int
    total: int

    @property
    def text(self) -> str:
        """Return "N of M feeds failing", the line /readyz and /status lead with."""
        return f"{self.failing} of {self.total} feeds failing"


class FeedHealthCache:
    """Feed health for readiness, recomputed at most every ``max_age_s`` (probes come often)."""

    def __init__(
        self, config_dir: Path, max_age_s: float = 5.0, feeds_file: Path | None = None
    ) -> None:
        """Watch the configured feeds (FEEDS_FILE, else feeds.yaml) and the run-time ones."""
        self.path = config_file(config_dir, FEEDS_FILE, feeds_file)
        self.max_age_s = max_age_s
        self._configured: tuple[float, list[str]] = (-1.0, [])
        self._value: FeedHealth | None = None
        self._at = -1e9

    async def get(self, redis: Redis) -> FeedHealth | None:
        """Return the feed health (None when there are no feeds at all)."""
        now = time.monotonic()
        if now - self._at >= self.max_age_s:
            self._value = await self._compute(redis)
            self._at = now
        return self._value

    def _configured_ids(self) -> list[str]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return []
        if mtime != self._configured[0]:
            try:
                ids = [f.id for f in load_feeds(self.path) if f.enabled]
            except ConfigError:
                ids = []  # the poller reports a bad file itself; readiness judges the rest
            self._configured = (mtime, ids)
        return self._configured[1]

    async def _compute(self, redis: Redis) -> FeedHealth | None:
        ids = set(await asyncio.to_thread(self._configured_ids))
        ids.update(f.id for f in await runtime_feeds(redis) if f.enabled)
        if not ids:
            return None
        async with redis.pipeline(transaction=False) as pipe:
            for feed_id in ids:
                pipe.hmget(keys.feed_state(feed_id), ["error_streak", "deactivated"])
            rows = await pipe.execute()
        failing = sum(1 for streak, dead in rows
                      if number(streak) > 0 or number(dead) > 0)
        return FeedHealth(failing, len(ids))


def number(value: object) -> float:
    """Return a Redis field as a float (0 when absent or not a number)."""
    try:
        return float(str(value)) if value is not None else 0.0
    except ValueError:
        return 0.0
