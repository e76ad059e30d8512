"""Hostile feeds (bomb, huge body, trickle, redirect loop, HTML) fail alone and within bounds."""

from __future__ import annotations

import asyncio
import gc

import pytest
from redis.asyncio import Redis

from core.keys import FEED_EVENTS
from core.models import FeedEvent, decode
from core.streams import read_range
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import (
    feed_for,
    limits,
    make_poller,
    queued_articles,
    reset_peak_rss,
    rss_kib,
    rss_with,
    tuning,
)
from workers.poller.fetch import Fetcher, FetchError, parse_retry_after
from workers.poller.state import load_state


async def test_hostile_feeds_fail_alone_within_bounds(redis: Redis) -> None:
    async with FeedServer() as server:
        server.dynamic["good1"] = rss_with([("a1", "Alpha one"), ("a2", "Alpha two")])
        server.dynamic["good2"] = rss_with([("b1", "Beta one")])
        hostile = {
            "bomb": ("/bomb", "too_large"),
            "big": ("/big", "too_large"),
            "trickle": ("/trickle", "timeout"),
            "loop": ("/loop/0", "redirects"),
            "html": ("/html", "not_a_feed"),
            "gone": ("/status/404", "http_status"),
            "refused": ("/nothing-listens-here", "connection"),
        }
        feeds = [feed_for(k, server.url(p)) for k, (p, _) in hostile.items()]
        feeds[-1] = feed_for("refused", "http://127.0.0.1:9/feed")  # discard port: refused
        feeds += [feed_for("good1", server.url("/dyn/good1")),
                  feed_for("good2", server.url("/dyn/good2"))]
        gc.collect()
        before, _ = rss_kib()
        can_measure = reset_peak_rss()
        async with make_poller(redis, feeds) as poller:
            reports = await asyncio.gather(*(poller.poll(f) for f in feeds))
        _, peak = rss_kib()
        by_id = {r.feed_id: r for r in reports}
        for fid, (_, kind) in hostile.items():
            assert by_id[fid].outcome == "error", by_id[fid]
            assert by_id[fid].error_kind == kind, (fid, by_id[fid])
            state = await load_state(redis, fid)
            assert state.error_streak == 1 and state.last_error_kind == kind
        assert by_id["good1"].outcome == "new" and by_id["good1"].queued == 2
        assert by_id["good2"].outcome == "new" and by_id["good2"].queued == 1
        assert {a.title for a in await queued_articles(redis)} == {
            "Alpha one", "Alpha two", "Beta one"}
        # The loop was followed for exactly 5 redirects (6 requests), then given up.
        assert sum(n for path, n in server.hits.items() if path.startswith("/loop/")) == 6
        print(f"peak RSS growth during hostile polls: {(peak - before) / 1024:.1f} MiB")
        if can_measure:
            assert (peak - before) < 50 * 1024, f"peak RSS grew {(peak - before) / 1024:.1f} MiB"


async def test_bomb_is_cut_at_the_cap() -> None:
    capped = limits(fetch_timeout_s=10, max_body_mb=1)
    async with FeedServer() as server, Fetcher(capped) as fetcher:
        with pytest.raises(FetchError, match="cap") as info:
            await fetcher.fetch(server.url("/bomb"), trusted=True)
        assert info.value.kind == "too_large"


@pytest.mark.parametrize("path", ["/silent", "/stall"])
async def test_a_server_gone_quiet_fails_on_the_read_bound_not_the_total(path: str) -> None:
    """No byte for read_timeout_s ends the fetch, before the head or in the body."""
    quiet = limits(fetch_timeout_s=120, connect_timeout_s=0.5, read_timeout_s=0.5)
    async with FeedServer() as server, Fetcher(quiet) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(server.url(path), trusted=True)
    assert info.value.kind == "timeout"
    assert str(info.value) == "the server sent nothing for 0.5 s"


async def test_a_live_trickle_is_cut_by_the_total_bound() -> None:
    """A byte a second keeps the read bound (2 s) from firing; the total (3 s) ends it."""
    async with FeedServer() as server, Fetcher(limits(fetch_timeout_s=3, read_timeout_s=2)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/trickle"), trusted=True)
    assert info.value.kind == "timeout"
    assert str(info.value) == "no complete response within 3 s"


async def test_retry_after_is_reported_and_honoured(redis: Redis) -> None:
    async with FeedServer() as server:
        feed = feed_for("busy", server.url("/status/503"))
        async with make_poller(redis, [feed]) as poller:
            report = await poller.poll(feed)
        assert report.error_kind == "http_status"
        state = await load_state(redis, "busy")
        assert state.next_poll - state.last_attempt >= 120  # Retry-After: 120
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Wed, 01 Jan 2020 00:00:00 GMT") == 0
    assert parse_retry_after("soon") is None


async def test_failure_streak_backs_off_then_deactivates(redis: Redis) -> None:
    async with FeedServer() as server:
        feed = feed_for("broken", server.url("/status/500"))
        settings = tuning(deactivate_after=4)
        async with make_poller(redis, [feed], settings=settings) as poller:
            delays = []
            for _ in range(4):
                report = await poller.poll(feed)
                state = await load_state(redis, "broken")
                delays.append(state.next_poll - state.last_attempt)
                assert report.outcome == "error"
        assert state.deactivated == 1 and "4 failures in a row" in state.deactivated_reason
        # Exponential: each delay's upper bound doubles (jitter keeps it in [0.5, 1] x bound).
        assert delays[3] > delays[0] * 2
        events = [decode(fields, FeedEvent) for _, fields in await read_range(redis, FEED_EVENTS)]
        assert [(e.type, e.feed_id, e.kind) for e in events] == [
            ("deactivated", "broken", "http_status")]
        assert events[0].url == feed.url and "4 failures in a row" in events[0].reason


async def test_per_host_concurrency_is_limited() -> None:
    async with FeedServer() as server, Fetcher(limits(fetch_timeout_s=10, per_host=2)) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url(f"/slow/{i}"), trusted=True)
                                         for i in range(6)))
    assert [r.status for r in results] == [200] * 6
    assert server.max_active == 2
