"""WebSub: verification of intent, signed pushes, renewal, and polling as fallback."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.websub_state import load_subscription
from testkit.waiting import quiet, wait_until
from testkit.websub_hub import WebSubHub
from tests.workers.poller.helpers import feed_for, queued_articles
from tests.workers.poller.websub_support import (
    has,
    item,
    sign,
    subscribed,
    titles,
    verified,
    websub_poller,
)


async def test_subscribe_verify_and_a_push_queues_without_a_poll(
    redis: Redis, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    async with WebSubHub() as hub:
        hub.items = [item(1)]
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], registry) as (poller, websub):
            first = await poller.poll(feed)  # the poll that finds the hub
            assert first.queued == 1
            assert await wait_until(lambda: verified(redis, "hubbed", hub))
            asked = hub.requests[0]
            assert asked["hub.mode"] == "subscribe" and asked["hub.topic"] == hub.feed_url
            assert asked["hub.callback"] == websub.callback_url("hubbed")
            assert len(asked["hub.secret"]) >= 32 and asked["hub.lease_seconds"] == "864000"
            fetches = hub.feed_fetches
            assert await hub.publish(item(2)) == [204]
            assert await wait_until(lambda: has(redis, item(2).title), 5)
            queued = await titles(redis)
            assert queued[-1] == item(2).title and len(queued) == 2
            assert hub.feed_fetches == fetches  # pushed, not polled
            # A pushed feed is polled only at the fallback interval from now on.
            now = time.time()
            assert websub.hold("hubbed", now + 1) >= now + 600
            assert poller.hold is not None
            # The same content pushed again is no news.
            assert await hub.post(websub.callback_url("hubbed"), hub.body(),
                                  sign(hub.live()[0].secret, hub.body())) == 204
    assert len(await titles(redis)) == 2
    assert registry.get_sample_value("cw_websub_pushes_total", {"outcome": "queued"}) == 1
    assert registry.get_sample_value("cw_websub_pushes_total", {"outcome": "no_news"}) == 1
    assert registry.get_sample_value(
        "cw_websub_verifications_total", {"outcome": "confirmed"}) == 1


async def test_forged_pushes_and_unknown_feeds_queue_nothing(redis: Redis, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    async with WebSubHub() as hub, \
            subscribed(redis, tmp_path, hub, registry) as (_, _, websub):
        hub.items = [item(7)]
        body, callback = hub.body(), websub.callback_url("hubbed")
        assert await hub.post(callback, body, sign("not-the-secret", body)) == 202
        assert await hub.post(callback, body, None) == 202
        assert await hub.post(callback, body, "md5=00") == 202
        # Signed right, but for a feed we do not follow: gone, so the hub may drop it.
        secret = hub.live()[0].secret
        assert await hub.post(websub.callback_url("other"), body, sign(secret, body)) == 410
        await quiet(0.3)
    assert await queued_articles(redis) == []
    assert registry.get_sample_value(
        "cw_websub_pushes_total", {"outcome": "bad_signature"}) == 3


async def test_verification_only_for_a_topic_we_asked_for(redis: Redis, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    async with WebSubHub() as hub:
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], registry) as (poller, websub), \
                aiohttp.ClientSession() as client:
            await poller.poll(feed)
            assert await wait_until(lambda: verified(redis, "hubbed", hub))

            async def verify(feed_id: str, **params: str) -> tuple[int, str]:
                query = {"hub.challenge": "c0ffee", "hub.lease_seconds": "60", **params}
                async with client.get(websub.callback_url(feed_id), params=query) as resp:
                    return resp.status, await resp.text()

            other = "https://elsewhere.example.org/feed.xml"
            assert await verify("hubbed", **{"hub.mode": "subscribe", "hub.topic": other}) \
                == (404, "no such subscription")
            assert (await verify("nobody", **{"hub.mode": "subscribe",
                                              "hub.topic": hub.feed_url}))[0] == 404
            # We never asked to unsubscribe: a hub (or anyone) asking is refused.
            assert (await verify("hubbed", **{"hub.mode": "unsubscribe",
                                              "hub.topic": hub.feed_url}))[0] == 404
            assert await verify("hubbed", **{"hub.mode": "subscribe",
                                             "hub.topic": hub.feed_url}) == (200, "c0ffee")
            # A hub that later denies the subscription puts the feed back on polling.
            assert (await verify("hubbed", **{"hub.mode": "denied", "hub.topic": hub.feed_url,
                                              "hub.reason": "quota"}))[0] == 200
            sub = await load_subscription(redis, "hubbed")
            assert sub is not None and sub.state == "denied" and "quota" in sub.last_error
            assert "hubbed" not in websub.live
    assert registry.get_sample_value(
        "cw_websub_verifications_total", {"outcome": "refused"}) == 3


async def test_lease_renewed_before_it_ends(redis: Redis, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    async with WebSubHub(max_lease_s=3) as hub, \
            subscribed(redis, tmp_path, hub, registry):
        first = await load_subscription(redis, "hubbed")
        assert first is not None and first.lease_s == 3

        def confirmed() -> int:
            return sum(1 for mode, _, ok in hub.verified if mode == "subscribe" and ok)

        assert await wait_until(lambda: confirmed() >= 3, 20)
        renewed = await load_subscription(redis, "hubbed")
        assert renewed is not None and renewed.expires > first.expires
        assert renewed.secret == first.secret and renewed.state == "verified"
        # The hub still holds a live subscription well past the first lease.
        assert time.time() > first.expires and hub.live()
        assert await hub.publish(item(3)) == [204]
        assert await wait_until(lambda: has(redis, item(3).title), 5)


async def test_hub_down_the_feed_is_polled_as_usual(redis: Redis, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    async with WebSubHub() as hub:
        hub.down = True
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], registry,
                                 retry_s=3600) as (poller, websub):
            stop = asyncio.Event()
            await poller.schedule_feeds(["hubbed"])
            loop = asyncio.create_task(poller.run(stop))
            try:
                async def failed() -> bool:
                    sub = await load_subscription(redis, "hubbed")
                    return sub is not None and sub.state == "failed"

                assert await wait_until(failed)
                sub = await load_subscription(redis, "hubbed")
                assert sub is not None and "503" in sub.last_error
                assert not websub.live and hub.requests
                # Nobody is pushed (no subscription): the poll loop finds the new item.
                assert await hub.publish(item(4)) == []
                assert await wait_until(lambda: has(redis, item(4).title))
            finally:
                stop.set()
                await loop
