"""Support for the WebSub tests: a poller with WebSub on, and what the tests look at."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.feeds import FeedConfig
from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.settings import Settings
from core.tuning import WebSubSettings
from core.websub_state import load_subscription
from testkit.feeds import FeedItem
from testkit.waiting import wait_until
from testkit.websub_hub import WebSubHub
from tests.workers.poller.helpers import feed_for, make_poller, queued_articles, tuning
from workers.poller.poller import Poller
from workers.poller.websub import WebSub
from workers.poller.websub_server import running_websub


def item(n: int) -> FeedItem:
    """The n-th item a hub publishes."""
    return FeedItem(guid=f"hub-{n}", title=f"Shelling resumes despite truce, report {n}",
                    text=f"Report {n}.", link=f"https://news.example.org/hub/{n}",
                    published=datetime.now(UTC))


def write_hubbed_feeds(config_dir: Path, hub: WebSubHub) -> None:
    """Write a feeds.yaml holding the one feed ``hubbed``, the hub's own feed."""
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - {{id: hubbed, url: '{hub.feed_url}', name: Hubbed}}\n", encoding="utf-8")


@asynccontextmanager
async def websub_poller(
    redis: Redis, tmp_path: Path, feeds: list[FeedConfig], registry: CollectorRegistry,
    *, poller_changes: dict[str, Any] | None = None, **changes: Any,
) -> AsyncIterator[tuple[Poller, WebSub]]:
    """A poller with WebSub on: callbacks on a free port, subscriptions checked often."""
    poller_tuning = tuning(min_interval_s=1, default_interval_s=1, max_interval_s=2,
                           **(poller_changes or {}))
    settings = Settings(
        config_dir=tmp_path, poller=poller_tuning, public_base_url="http://placeholder",
        websub=WebSubSettings(port=0, check_s=0.1, fallback_poll_s=600, **changes))
    ctx = RoleContext(name="poller", settings=settings, redis=redis, stop=asyncio.Event(),
                      consumer_name="test-poller-0", registry=registry,
                      metrics=CoreMetrics(CollectorRegistry()))
    async with make_poller(redis, feeds, settings=poller_tuning) as poller, \
            running_websub(ctx, poller) as websub:
        assert websub is not None
        # The port is known only now; no subscription was asked before (nothing polled).
        websub.base_url = f"http://127.0.0.1:{websub.port}"
        yield poller, websub


@asynccontextmanager
async def subscribed(
    redis: Redis, tmp_path: Path, hub: WebSubHub, registry: CollectorRegistry | None = None,
) -> AsyncIterator[tuple[FeedConfig, Poller, WebSub]]:
    """A WebSub poller of the one feed ``hubbed`` (``hub``'s), polled once and subscribed."""
    feed = feed_for("hubbed", hub.feed_url)
    async with websub_poller(redis, tmp_path, [feed], registry or CollectorRegistry()) as (
            poller, websub):
        await poller.poll(feed)
        assert await wait_until(lambda: verified(redis, "hubbed", hub))
        yield feed, poller, websub


async def verified(redis: Redis, feed_id: str, hub: WebSubHub | None = None) -> bool:
    """Whether ``feed_id``'s subscription is verified, within its lease and held by ``hub``.

    The hub records a subscription once our answer to its verification has reached it, a
    moment after we marked ours verified: a publish in between would reach nobody.
    """
    sub = await load_subscription(redis, feed_id)
    if sub is None or not sub.live(time.time()):
        return False
    return hub is None or any(s.topic == sub.topic for s in hub.live())


async def titles(redis: Redis) -> list[str]:
    """Titles of every queued article, oldest first."""
    return [a.title for a in await queued_articles(redis)]


def sign(secret: str, body: bytes) -> str:
    """An X-Hub-Signature of ``body`` with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def has(redis: Redis, title: str) -> bool:
    """Whether an article titled ``title`` was queued."""
    return title in await titles(redis)


@dataclass
class Seeded:
    """Hubs whose feeds left a subscription of each kind in Redis, and the WebSub metrics."""

    pushed: WebSubHub  # feed "pushed": verified, lease running
    refused: WebSubHub  # feed "refused": the hub answered 503, so failed
    lapsed: WebSubHub  # feed "lapsed": verified, then its one-second lease ran out
    registry: CollectorRegistry


@asynccontextmanager
async def seeded_subscriptions(redis: Redis, tmp_path: Path) -> AsyncIterator[Seeded]:
    """Subscribe three feeds for real (pushed, refused, lapsed), then stop WebSub."""
    registry = CollectorRegistry()
    async with WebSubHub() as pushed, WebSubHub() as refused, \
            WebSubHub(max_lease_s=1) as lapsed:
        refused.down = True
        feeds = [feed_for("pushed", pushed.feed_url), feed_for("refused", refused.feed_url),
                 feed_for("lapsed", lapsed.feed_url)]
        async with websub_poller(redis, tmp_path, feeds, registry, retry_s=3600) as (poller, _):
            for feed in feeds:
                await poller.poll(feed)

            async def failed() -> bool:
                sub = await load_subscription(redis, "refused")
                return sub is not None and sub.state == "failed"

            assert await wait_until(lambda: verified(redis, "pushed", pushed))
            assert await wait_until(lambda: verified(redis, "lapsed", lapsed))
            assert await wait_until(failed)

            def gauge(state: str) -> float | None:
                return registry.get_sample_value("cw_websub_subscriptions", {"state": state})

            assert await wait_until(lambda: gauge("push") == 2 and gauge("failed") == 1)
        # WebSub is stopped: nothing renews the short lease any more.
        sub = await load_subscription(redis, "lapsed")
        assert sub is not None
        assert await wait_until(lambda: time.time() > sub.expires, 10)
        yield Seeded(pushed, refused, lapsed, registry)
