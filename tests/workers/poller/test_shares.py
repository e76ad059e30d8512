"""Several pollers share the feeds: each feed polled by one live poller, handed on when it stops."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from core import keys
from core.feeds import FeedConfig
from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.workers.poller.helpers import feed_for, rss_with, tuning
from workers.poller.fetch import Fetcher, FetchLimits
from workers.poller.metrics import PollerMetrics
from workers.poller.outcomes import PollReport
from workers.poller.parse_pool import ParsePool
from workers.poller.poller import Poller
from workers.poller.shares import PeerWatch, Shares


def test_each_feed_has_one_poller_and_a_leaving_one_hands_on_only_its_own() -> None:
    feeds = [f"feed-{i}" for i in range(300)]
    everyone = frozenset({"a", "b", "c"})
    shares = {name: Shares(name) for name in everyone}
    for share in shares.values():
        share.update(everyone)
    owners = {fid: [n for n, s in shares.items() if s.mine(fid)] for fid in feeds}
    assert all(len(o) == 1 for o in owners.values()), "a feed with no poller or with two"
    counts = Counter(o[0] for o in owners.values())
    assert all(60 <= n <= 140 for n in counts.values()), counts  # about a third each
    # c stops: a and b take c's feeds, and only those.
    handed = {}
    for name in ("a", "b"):
        before = {f for f in feeds if shares[name].mine(f)}
        shares[name].update(frozenset({"a", "b"}))
        handed[name] = [f for f in feeds if shares[name].mine(f) and f not in before]
    assert sorted(handed["a"] + handed["b"]) == sorted(f for f, o in owners.items() if o == ["c"])
    assert all(shares[owners[f][0]].mine(f) for f in feeds if owners[f] != ["c"])
    assert not set(handed["a"]) & set(handed["b"])


def test_a_peer_is_live_once_its_fresh_heartbeat_moves() -> None:
    watch = PeerWatch("a", ttl_s=15.0)
    now = 1_000_000.0
    beats = {"poller/b": f"{now - 3:.3f}", "poller/old": f"{now - 60:.3f}",
             "classifier/c": f"{now:.3f}", "poller/bad": "yesterday", "poller/a": f"{now:.3f}"}
    # First sight: b's heartbeat is fresh, but a poller killed a moment ago looks the same.
    assert watch.live(beats, now) == {"a"}
    beats["poller/b"] = f"{now + 2:.3f}"  # b beat again: it is at work
    assert watch.live(beats, now + 2) == {"a", "b"}
    assert watch.live(beats, now + 10) == {"a", "b"}  # between beats
    assert watch.live(beats, now + 20) == {"a"}  # stale
    beats["poller/b"] = f"{now + 21:.3f}"  # back under the same name: watched anew
    assert watch.live(beats, now + 21) == {"a"}
    beats["poller/b"] = f"{now + 26:.3f}"
    assert watch.live(beats, now + 26) == {"a", "b"}


def test_a_dead_pollers_frozen_heartbeat_never_counts() -> None:
    """A process started in place of a killed one does not leave the dead one's share idle."""
    watch = PeerWatch("h-poller-1", ttl_s=15.0)
    frozen = {"poller/h-poller-0": "1000.000"}
    assert all(watch.live(frozen, 1000.0 + t) == {"h-poller-1"} for t in range(0, 15, 2))
    alone = Shares("h-poller-1")
    assert all(alone.mine(f"f{i}") for i in range(50))


async def beat_twice(redis: Redis, pollers: list[Poller]) -> None:
    """Beat for pollers a and b twice, as their heartbeat tasks would: each sees the other move."""
    for beat in range(2):
        await redis.hset(keys.HEARTBEATS, mapping={
            "poller/a": f"{time.time() + beat:.3f}", "poller/b": f"{time.time() + beat:.3f}"})
        for poller in pollers:
            await poller.refresh_shares()


class _Recording(Poller):
    """A poller that notes which feeds it polled."""

    polled: Counter[str]

    async def poll(self, feed: FeedConfig) -> PollReport:
        """Note the feed, then poll it."""
        self.polled[feed.id] += 1
        return await super().poll(feed)


async def test_two_pollers_split_the_feeds_and_one_takes_over_when_the_other_stops(
    redis: Redis,
) -> None:
    settings = tuning()
    async with FeedServer() as server, AsyncExitStack() as stack:
        feeds = []
        for i in range(16):
            server.dynamic[f"s{i}"] = rss_with([(f"s{i}-1", f"Story {i}")])
            feeds.append(feed_for(f"s{i}", server.url(f"/dyn/s{i}"), interval=1))
        pollers: dict[str, _Recording] = {}
        registries = {"a": CollectorRegistry(), "b": CollectorRegistry()}
        for name in ("a", "b"):
            fetcher = await stack.enter_async_context(Fetcher(FetchLimits.of(settings)))
            pool = await stack.enter_async_context(ParsePool("thread", 1))
            poller = _Recording(redis, fetcher, pool, settings, PollerMetrics(registries[name]),
                                owner=name)
            poller.polled = Counter()
            poller.set_feeds(feeds)
            pollers[name] = poller
        await beat_twice(redis, list(pollers.values()))
        for poller in pollers.values():
            await poller.schedule_feeds(list(poller.feeds))
        assert registries["a"].get_sample_value("cw_poller_live_pollers") == 2
        stops = {name: asyncio.Event() for name in pollers}
        runs = [asyncio.create_task(p.run(stops[n])) for n, p in pollers.items()]
        try:
            a, b = pollers["a"], pollers["b"]

            def each_polled(times: int) -> bool:
                return all(a.polled[f.id] + b.polled[f.id] >= times for f in feeds)

            assert await wait_until(lambda: each_polled(3), timeout=120)
            mine = {name: set(p.polled) for name, p in pollers.items()}
            assert mine["a"] and mine["b"], mine  # both have a share
            assert not mine["a"] & mine["b"], "a feed polled by both pollers"
            assert mine["a"] | mine["b"] == {f.id for f in feeds}
            # b stops; its heartbeat goes (as supervise deletes it): a polls b's feeds too.
            stops["b"].set()
            await runs[1]
            await redis.hdel(keys.HEARTBEATS, "poller/b")
            await a.refresh_shares()
            assert registries["a"].get_sample_value("cw_poller_live_pollers") == 1
            before = Counter(a.polled)
            assert await wait_until(
                lambda: all(a.polled[f] > before[f] for f in mine["b"]), timeout=120)
        finally:
            for stop in stops.values():
                stop.set()
            await asyncio.gather(*runs)


async def test_a_hand_over_that_redis_cuts_short_is_completed_by_the_next_refresh(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tuning()
    feeds = [feed_for(f"h{i}", f"http://127.0.0.1:9/h{i}") for i in range(24)]
    async with Fetcher(FetchLimits.of(settings)) as fetcher, ParsePool("thread", 1) as pool:
        poller = Poller(redis, fetcher, pool, settings, owner="a")
        poller.set_feeds(feeds)
        await beat_twice(redis, [poller])
        await poller.schedule_feeds(list(poller.feeds))
        b_feeds = set(poller.parked)
        assert b_feeds and len(poller.queue) == len(feeds) - len(b_feeds)
        # b is gone, and Redis fails while a schedules b's feeds.
        await redis.hdel(keys.HEARTBEATS, "poller/b")
        async def down(*args: Any, **kwargs: Any) -> Any:
            raise RedisConnectionError("Redis is restarting")

        monkeypatch.setattr("workers.poller.poller.load_states", down)
        with pytest.raises(RedisConnectionError):
            await poller.refresh_shares()
        assert poller.parked == b_feeds  # still parked: not lost between parked and queued
        monkeypatch.undo()
        await poller.refresh_shares()
        assert not poller.parked and len(poller.queue) == len(feeds)
