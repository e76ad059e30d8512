"""WebSub when a feed moves: another hub or topic, an old hub that will not let go, deactivation."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.feed_reactivate import reactivate_feed
from core.websub_state import load_subscription
from testkit.waiting import wait_until
from testkit.websub_hub import WebSubHub
from tests.workers.poller.helpers import feed_for, queued_articles
from tests.workers.poller.websub_support import (
    has,
    item,
    sign,
    subscribed,
    verified,
    websub_poller,
    write_hubbed_feeds,
)


async def test_a_feed_naming_another_hub_moves_there(redis: Redis, tmp_path: Path) -> None:
    async with WebSubHub() as old, old.another_hub("moved") as new, \
            subscribed(redis, tmp_path, old) as (feed, poller, websub):
        callback = websub.callback_url("hubbed")
        old_secret = old.live()[0].secret
        old.names_hub = new.hub_url  # the publisher moved its feed to another hub
        await poller.poll(feed)
        assert await wait_until(lambda: verified(redis, "hubbed", new))
        assert await wait_until(lambda: (old.feed_url, callback) in old.unsubscribed)
        assert old.requests[-1] == {"hub.mode": "unsubscribe", "hub.topic": old.feed_url,
                                    "hub.callback": callback}
        assert ("unsubscribe", callback, True) in old.verified and not old.live()
        [asked] = new.requests
        assert asked["hub.mode"] == "subscribe" and asked["hub.topic"] == old.feed_url
        assert asked["hub.callback"] == callback and asked["hub.secret"] != old_secret
        sub = await load_subscription(redis, "hubbed")
        assert sub is not None and sub.hub == new.hub_url and not sub.old_hub
        # The old hub pushing with the old subscription's secret is told it is gone.
        old.items = [item(1)]
        body = old.body()
        assert await old.post(callback, body, sign(old_secret, body)) == 410
        assert await queued_articles(redis) == []
        # The new hub's push is taken.
        new_secret = new.live()[0].secret
        assert await new.post(callback, body, sign(new_secret, body),
                              topic=old.feed_url) == 204
        assert await wait_until(lambda: has(redis, item(1).title))


async def test_a_feed_naming_another_topic_moves_to_it(redis: Redis, tmp_path: Path) -> None:
    async with WebSubHub() as hub, subscribed(redis, tmp_path, hub) as (feed, poller, websub):
        callback = websub.callback_url("hubbed")
        first_topic, old_secret = hub.feed_url, hub.live()[0].secret
        hub.names_self = f"{hub.feed_url}?edition=world"
        await poller.poll(feed)
        assert await wait_until(lambda: (first_topic, callback) in hub.unsubscribed)
        assert await wait_until(lambda: verified(redis, "hubbed", hub))
        assert [s.topic for s in hub.live()] == [hub.names_self]
        unsubscribe = next(r for r in hub.requests if r["hub.mode"] == "unsubscribe")
        assert unsubscribe["hub.topic"] == first_topic
        sub = await load_subscription(redis, "hubbed")
        assert sub is not None and sub.topic == hub.names_self and not sub.old_topic
        # A push of the old topic is refused; the hub pushes the new one to us.
        body = hub.body()
        assert await hub.post(callback, body, sign(old_secret, body),
                              topic=first_topic) == 410
        assert await hub.publish(item(2)) == [204]
        assert await wait_until(lambda: has(redis, item(2).title))
        assert len(await queued_articles(redis)) == 1


async def test_an_old_hub_that_refuses_the_unsubscribe_does_not_block_the_move(
    redis: Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="workers.poller.websub_requests")
    async with WebSubHub() as old, old.another_hub("moved") as new, \
            subscribed(redis, tmp_path, old) as (feed, poller, websub):
        old.down = True  # answers 503 to the unsubscribe, keeps pushing
        old.names_hub = new.hub_url
        await poller.poll(feed)
        assert await wait_until(lambda: verified(redis, "hubbed", new))
        assert old.requests[-1]["hub.mode"] == "unsubscribe" and old.live()
        assert any("unsubscribing from old hub" in r.getMessage() and "503" in r.getMessage()
                   for r in caplog.records)
        sub = await load_subscription(redis, "hubbed")
        assert sub is not None and not sub.old_hub  # nothing left to wait for
        # Its pushes are answered 410 Gone, so it drops the subscription itself.
        assert await old.publish(item(3)) == [410]
        assert old.deliveries == [(websub.callback_url("hubbed"), 410)]
        assert not await has(redis, item(3).title)


async def test_a_deactivated_feed_is_unsubscribed_and_resubscribed_when_reactivated(
    redis: Redis, tmp_path: Path
) -> None:
    async with WebSubHub() as hub:
        write_hubbed_feeds(tmp_path, hub)
        feed = feed_for("hubbed", hub.feed_url)
        async with websub_poller(redis, tmp_path, [feed], CollectorRegistry(),
                                 poller_changes={"deactivate_after": 1}) as (poller, websub):
            callback = websub.callback_url("hubbed")
            await poller.poll(feed)
            assert await wait_until(lambda: verified(redis, "hubbed", hub))
            hub.feed_down = True
            assert (await poller.poll(feed)).outcome == "error"  # one failure deactivates

            async def forgotten() -> bool:
                return await load_subscription(redis, "hubbed") is None

            assert await wait_until(forgotten)
            assert (hub.feed_url, callback) in hub.unsubscribed and not hub.live()
            # Still configured, but not put back on the poll queue while deactivated.
            assert "hubbed" in poller.feeds and poller.queue.due_at("hubbed") is None
            hub.feed_down = False
            assert (await reactivate_feed(redis, tmp_path, "hubbed")).outcome == "reactivated"
            assert await wait_until(lambda: verified(redis, "hubbed", hub))
            assert [r["hub.mode"] for r in hub.requests] == ["subscribe", "unsubscribe",
                                                             "subscribe"]


async def test_a_push_naming_another_hub_moves_the_feed_without_waiting_for_its_poll(
    redis: Redis, tmp_path: Path,
) -> None:
    async with WebSubHub() as old, old.another_hub("moved") as new, \
            subscribed(redis, tmp_path, old) as (_, poller, _):
        stop = asyncio.Event()
        polling = asyncio.create_task(poller.run(stop))  # nothing due: pushed feeds wait
        try:
            fetches = old.feed_fetches
            # The publisher moved its feed to another hub; the old one pushes that news.
            old.names_hub = new.hub_url
            assert await old.publish(item(1)) == [204]
            assert await wait_until(lambda: verified(redis, "hubbed", new))
            # Polled at once, not at the fallback poll ten minutes later.
            assert old.feed_fetches > fetches
            assert await wait_until(lambda: has(redis, item(1).title))
        finally:
            stop.set()
            await polling
