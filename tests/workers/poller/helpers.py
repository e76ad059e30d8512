"""Helpers for poller tests: building a poller on a local server, reading what it queued."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, cast

from redis.asyncio import Redis

from core.feeds import FeedConfig
from core.keys import ARTICLES
from core.models import Article, decode
from core.tuning import PollerTuning
from workers.poller.fetch import Fetcher, FetchLimits
from workers.poller.metrics import PollerMetrics
from workers.poller.parse_pool import ParsePool
from workers.poller.poller import Poller


def tuning(**changes: Any) -> PollerTuning:
    """The service's poller tuning with short fetch timeouts (a local server answers at once)."""
    fast = {"fetch_timeout_s": 3.0, "connect_timeout_s": 2.0, "read_timeout_s": 2.0}
    return PollerTuning.model_validate({**fast, **changes})


def limits(**changes: Any) -> FetchLimits:
    """The fetch limits of the service's poller tuning with ``changes``."""
    return FetchLimits.of(PollerTuning.model_validate(changes))


def feed_for(name: str, url: str, **extra: object) -> FeedConfig:
    """Return a trusted feed config named after a file."""
    fid = re.sub(r"[^a-z0-9_.-]", "-", name.lower())[:64]
    return FeedConfig.model_validate({"id": fid, "url": url, "name": name, **extra})


@asynccontextmanager
async def make_poller(
    redis: Redis,
    feeds: list[FeedConfig],
    *,
    metrics: PollerMetrics | None = None,
    parse_kind: Literal["process", "thread"] = "thread",
    settings: PollerTuning | None = None,
) -> AsyncIterator[Poller]:
    """Yield a poller with entered fetcher and parse pool, its feed set installed."""
    settings = settings or tuning()
    async with Fetcher(FetchLimits.of(settings)) as fetcher, ParsePool(parse_kind, 2) as pool:
        poller = Poller(redis, fetcher, pool, settings, metrics)
        poller.set_feeds(feeds)
        yield poller


async def queued_articles(redis: Redis) -> list[Article]:
    """Return every article on the ``articles`` stream, oldest first."""
    entries = cast(list[tuple[str, dict[str, str]]], await redis.xrange(ARTICLES))
    return [decode(fields, Article) for _, fields in entries]


def rss_with(items: list[tuple[str, str]]) -> bytes:
    """Return a small RSS document with the given (guid/link path, title) items."""
    body = "".join(
        f"<item><title>{title}</title><link>https://news.example.org/{path}</link>"
        f"<guid>https://news.example.org/{path}</guid>"
        f"<pubDate>Mon, 01 Jan 2024 12:00:00 GMT</pubDate>"
        f"<description>Text of {title}</description></item>"
        for path, title in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test feed</title><link>https://news.example.org/</link>{body}"
        "</channel></rss>"
    ).encode()


def feeds_dir(shared: Path) -> Path:
    """Return the shared feeds folder."""
    return shared / "feeds"


def rss_kib() -> tuple[int, int]:
    """Return (current RSS, peak RSS since the last reset) of this process in KiB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS counter (Linux); return whether that worked."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True
