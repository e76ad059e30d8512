"""WebSub over time: lease end and fallback, removal, the role's wiring, and push -> alert."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys
from core.lifecycle import RoleContext, resolve_role, run_roles
from core.metrics import CoreMetrics
from core.models import Alert, decode
from core.redis_conn import RedisProcess
from core.settings import Settings, load_settings
from core.tuning import WebSubSettings
from core.websub_state import load_subscription
from testkit.feeds import FeedItem
from testkit.waiting import wait_until
from testkit.websub_hub import WebSubHub
from tests.workers.poller.helpers import feed_for, tuning
from tests.workers.poller.websub_support import (
    has,
    item,
    verified,
    websub_poller,
    write_hubbed_feeds,
)
from workers.poller.role import run
from workers.poller.websub_server import running_websub


async def test_lease_end_puts_the_feed_back_on_normal_polling(
    redis: Redis, tmp_path: Path
) -> None:
    async with WebSubHub(max_lease_s=2) as hub:
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], CollectorRegistry(),
                                 retry_s=3600) as (poller, _websub):
            stop = asyncio.Event()
            await poller.schedule_feeds(["hubbed"])
            loop = asyncio.create_task(poller.run(stop))
            try:
                # Verified, then polled once more: the next poll is held a fallback away.
                assert await wait_until(
                    lambda: (poller.queue.due_at("hubbed") or 0) > time.time() + 300)
                fetches = hub.feed_fetches
                hub.down = True  # no renewal: the lease runs out

                async def failed() -> bool:
                    sub = await load_subscription(redis, "hubbed")
                    return sub is not None and sub.state == "failed"

                assert await wait_until(failed)
                # Polled again at its own interval, not a fallback later.
                assert await wait_until(lambda: hub.feed_fetches > fetches + 1)
                hub.items = [item(9)]
                hub.version += 1
                assert await wait_until(lambda: has(redis, item(9).title))
            finally:
                stop.set()
                await loop


async def test_a_removed_feed_is_unsubscribed(redis: Redis, tmp_path: Path) -> None:
    async with WebSubHub() as hub:
        feed = feed_for("hubbed", hub.feed_url)
        other = feed_for("other", "https://news.example.org/other.xml")
        async with websub_poller(redis, tmp_path, [feed, other],
                                 CollectorRegistry()) as (poller, websub):
            await poller.poll(feed)
            assert await wait_until(lambda: verified(redis, "hubbed", hub))
            poller.set_feeds([other])

            async def forgotten() -> bool:
                return (await load_subscription(redis, "hubbed") is None
                        and not await redis.sismember(keys.WEBSUB_FEEDS, "hubbed"))

            assert await wait_until(forgotten)
            assert ("unsubscribe", websub.callback_url("hubbed"), True) in hub.verified
            assert not hub.live() and "hubbed" not in websub.live


async def test_websub_stays_off_without_a_public_url(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(config_dir=tmp_path, websub=WebSubSettings(port=0))
    ctx = RoleContext(name="poller", settings=settings, redis=redis, stop=asyncio.Event(),
                      consumer_name="test-poller-0", registry=CollectorRegistry(),
                      metrics=CoreMetrics(CollectorRegistry()))
    async with websub_poller(redis, tmp_path, [], CollectorRegistry()) as (poller, _), \
            running_websub(ctx, poller) as off:
        assert off is None


async def test_the_poller_role_subscribes_with_its_public_callback(
    redis: Redis, tmp_path: Path
) -> None:
    async with WebSubHub() as hub:
        write_hubbed_feeds(tmp_path, hub)
        settings = Settings(
            config_dir=tmp_path, poller=tuning(min_interval_s=1, max_interval_s=2,
                                               default_interval_s=1, start_rate=50),
            public_base_url="https://cw.example.org/", websub=WebSubSettings(port=0, check_s=0.1))
        ctx = RoleContext(name="poller", settings=settings, redis=redis, stop=asyncio.Event(),
                          consumer_name="test-poller-0", registry=CollectorRegistry(),
                          metrics=CoreMetrics(CollectorRegistry()))
        task = asyncio.create_task(run(ctx))
        try:
            assert await wait_until(lambda: hub.requests)
        finally:
            ctx.stop.set()
            await asyncio.wait_for(task, 20)
    assert hub.requests[0]["hub.callback"] == "https://cw.example.org/websub/hubbed"
    assert hub.requests[0]["hub.topic"] == hub.feed_url


async def test_a_pushed_report_becomes_an_alert(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    report = FeedItem(
        guid="push-1", title="Shelling hits Donetsk despite ceasefire, killing two",
        text="Russian forces shelled residential areas of Donetsk overnight in violation of "
             "the ceasefire agreed on Monday, Ukrainian officials said.",
        link="https://news.example.org/push/1", published=datetime.now(UTC))
    settings = load_settings(data_dir=tmp_path / "data", redis_url=redis_server.url,
                             streams={"block_ms": 100})
    stop = asyncio.Event()
    classifier = asyncio.create_task(run_roles(
        settings, [("classifier", resolve_role("classifier"))], stop=stop,
        install_signals=False))
    try:
        async with WebSubHub() as hub:
            feed = feed_for("hubbed", hub.feed_url)
            async with websub_poller(redis, tmp_path, [feed], CollectorRegistry()) as (
                    poller, _):
                await poller.poll(feed)  # an empty feed: nothing but the hub is learnt
                assert await wait_until(lambda: verified(redis, "hubbed", hub))
                fetches = hub.feed_fetches
                assert await hub.publish(report) == [204]

                async def alerted() -> list[Alert]:
                    entries = cast(list[tuple[str, dict[str, str]]],
                                   await redis.xrange(keys.ALERTS))
                    return [decode(fields, Alert) for _, fields in entries]

                assert await wait_until(alerted, 60)
                assert hub.feed_fetches == fetches
    finally:
        stop.set()
        assert await asyncio.wait_for(classifier, 30) == 0
    [alert] = await alerted()
    assert alert.label == "violation" and alert.article.title == report.title
    assert alert.article.feed_id == "hubbed" and "ukraine" in alert.regions


@pytest.mark.parametrize("hidden_as", ["timeout", "an error returned"])
async def test_websub_ends_when_cancelled_even_if_a_check_hides_the_cancellation(
    redis: Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hidden_as: str,
) -> None:
    """A cancellation a check turns into TimeoutError or into a normal return still ends it.

    aiohttp's timers can turn a cancellation into TimeoutError, and a hub POST then answered
    "cannot reach hub" and returned. The loop took either for one more round and ran for
    ever: a test that left WebSub hung now and then in teardown.
    """
    async with WebSubHub() as hub:
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], CollectorRegistry()) as (_, websub):
            entered, real, mine = asyncio.Event(), websub.check, []

            async def check() -> None:
                if asyncio.current_task() not in mine:  # the fixture's own WebSub loop
                    return await real()
                entered.set()
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    if hidden_as == "timeout":
                        raise TimeoutError("the request's own timer fired") from None

            monkeypatch.setattr(websub, "check", check)
            stop = asyncio.Event()  # set only afterwards, so a loop gone astray ends the test
            running = asyncio.create_task(websub.run(stop))
            mine.append(running)
            try:
                await asyncio.wait_for(entered.wait(), timeout=30)
                running.cancel()
                done, _ = await asyncio.wait([running], timeout=30)
                assert done, "WebSub's loop went on after it was cancelled"
                assert running.cancelled()
            finally:
                stop.set()
