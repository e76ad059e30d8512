"""Conditional GET, changed feeds, dedupe crash safety, metrics and the scheduling loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys
from core.feeds import FeedConfig
from core.keys import ARTICLES
from core.models import Article
from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.workers.poller.helpers import feed_for, make_poller, queued_articles, rss_with, tuning
from workers.poller import dedupe
from workers.poller.dedupe import queue_new
from workers.poller.metrics import PollerMetrics
from workers.poller.state import load_state


async def test_unchanged_feed_gets_304_and_changed_feed_queues_only_new(redis: Redis) -> None:
    registry = CollectorRegistry()
    metrics = PollerMetrics(registry)
    async with FeedServer() as server:
        server.dynamic["world"] = rss_with([("s1", "Story one"), ("s2", "Story two")])
        feed = feed_for("world", server.url("/dyn/world"))
        async with make_poller(redis, [feed], metrics=metrics, parse_kind="process") as poller:
            first = await poller.poll(feed)
            second = await poller.poll(feed)
            server.dynamic["world"] = rss_with(
                [("s3", "Story three"), ("s1", "Story one"), ("s2", "Story two")])
            third = await poller.poll(feed)
            # New bytes outside the items (a fresh build date): no item is new, no parse.
            server.dynamic["world"] = server.dynamic["world"].replace(
                b"<title>Test feed</title>", b"<title>Test feed</title><lastBuildDate>Tue, "
                b"02 Jan 2024 10:00:00 GMT</lastBuildDate>")
            fourth = await poller.poll(feed)
    assert (first.outcome, first.queued, first.parsed) == ("new", 2, 2)
    assert (second.outcome, second.status, second.queued) == ("not_modified", 304, 0)
    # Only the new item was handed to feedparser (with the feed's head and tail).
    assert (third.outcome, third.queued, third.parsed) == ("new", 1, 1)
    assert (fourth.outcome, fourth.status, fourth.parsed) == ("unchanged", 200, 0)
    titles = [a.title for a in await queued_articles(redis)]
    assert titles == ["Story one", "Story two", "Story three"]
    state = await load_state(redis, "world")
    assert state.etag and state.last_success and state.error_streak == 0
    assert registry.get_sample_value("cw_poller_not_modified_total") == 1
    assert registry.get_sample_value("cw_poller_articles_queued_total") == 3
    assert registry.get_sample_value("cw_poller_polls_total", {"outcome": "new"}) == 2
    assert registry.get_sample_value("cw_poller_polls_total", {"outcome": "unchanged"}) == 1
    assert registry.get_sample_value("cw_poller_parse_seconds_count") == 2
    # Both bodies were well-formed: the lxml fast path read them, feedparser none.
    assert registry.get_sample_value("cw_poller_parses_total", {"path": "fast"}) == 2
    assert registry.get_sample_value("cw_poller_parses_total", {"path": "feedparser"}) is None
    assert registry.get_sample_value(
        "cw_poller_feed_last_success_timestamp_seconds", {"feed": "world"}) == state.last_success


def _article(n: int) -> Article:
    now = datetime.now(UTC)
    return Article(id=f"id{n}", feed_id="f", source="S", url=f"https://x.org/{n}",
                   title=f"t{n}", published=now, fetched=now)


async def test_crash_between_claim_and_publish_loses_nothing(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise ConnectionError("crash after claim, before publish")

    monkeypatch.setattr(dedupe, "queue_publish", crash)
    with pytest.raises(ConnectionError):
        await queue_new(redis, [_article(1), _article(2)], claim_ttl_s=1)
    monkeypatch.undo()
    # While the dead claim lives, another poll reports the ids unconfirmed, not seen.
    held = await queue_new(redis, [_article(1), _article(2)], claim_ttl_s=1)
    assert (held.queued, held.seen, held.unconfirmed) == (0, 0, 2)

    async def claims_expired() -> bool:
        return not await redis.exists(*(keys.SEEN_PREFIX + _article(n).id for n in (1, 2)))

    assert await wait_until(claims_expired, timeout=10)  # the dead claims' 1 s TTL ran out
    retry = await queue_new(redis, [_article(1), _article(2)], claim_ttl_s=1)
    assert (retry.queued, retry.seen, retry.unconfirmed) == (2, 0, 0)
    again = await queue_new(redis, [_article(1), _article(2), _article(2)])
    assert (again.queued, again.seen) == (0, 2)
    assert await redis.xlen(ARTICLES) == 2
    assert await redis.ttl(dedupe.SEEN_PREFIX + "id1") > 86_400


async def test_run_loop_polls_each_feed_on_schedule_and_stops(redis: Redis) -> None:
    async with FeedServer() as server:
        feeds: list[FeedConfig] = []
        for i in range(6):
            server.dynamic[f"f{i}"] = rss_with([(f"f{i}-1", f"Feed {i} story")])
            feeds.append(feed_for(f"f{i}", server.url(f"/dyn/f{i}"), interval=1.0))
        settings = tuning(min_interval_s=1, max_interval_s=2, default_interval_s=1,
                          max_rate=100, start_rate=20, concurrency=4)
        stop = asyncio.Event()
        async with make_poller(redis, feeds, settings=settings) as poller:
            await poller.schedule_feeds([f.id for f in feeds])
            runner = asyncio.create_task(poller.run(stop))
            await wait_until(lambda: all(server.hits[f"/dyn/f{i}"] >= 2 for i in range(6)),
                             timeout=10)
            stop.set()
            await asyncio.wait_for(runner, 10)
    assert all(server.hits[f"/dyn/f{i}"] >= 2 for i in range(6)), server.hits
    assert await redis.xlen(ARTICLES) == 6
    for i in range(6):
        state = await load_state(redis, f"f{i}")
        assert state.polls_total >= 2 and state.last_status in (200, 304)
