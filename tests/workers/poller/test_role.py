"""The poller role end to end: config feeds polled and queued, run-time feeds guarded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys
from core.feeds import FeedConfig, add_runtime_feed, remove_runtime_feed
from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.settings import Settings
from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.workers.poller.helpers import (
    feed_for,
    make_poller,
    queued_articles,
    rss_with,
    tuning,
)
from workers.poller.role import refresh, run
from workers.poller.state import load_state


def _ctx(
    config_dir: Path, redis: Redis, registry: CollectorRegistry, **changes: object
) -> RoleContext:
    """A RoleContext as core.lifecycle builds it, its poller tuned through the settings."""
    # Quick fetches, intervals of seconds, and a cold start that reaches every feed at once.
    poller = tuning(min_interval_s=1, max_interval_s=5, start_rate=50, **changes)
    return RoleContext(
        name="poller", settings=Settings(config_dir=config_dir, poller=poller), redis=redis,
        stop=asyncio.Event(), consumer_name="test-poller-0", registry=registry,
        metrics=CoreMetrics(CollectorRegistry()),
    )


async def test_role_polls_config_feeds_and_guards_runtime_feeds(
    redis: Redis, tmp_path: Path
) -> None:
    async with FeedServer() as server:
        server.dynamic["a"] = rss_with([("a1", "Truce holds in the north")])
        server.dynamic["b"] = rss_with([("b1", "Talks resume")])
        (tmp_path / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - {{id: a, url: '{server.url('/dyn/a')}', name: A, region_hints: [ukraine]}}\n"
            f"  - {{id: b, url: '{server.url('/dyn/b')}', name: B, language: en}}\n",
            encoding="utf-8")
        # Added at run time and pointing inward through a name: refused at connect time.
        await add_runtime_feed(redis, FeedConfig(
            id="sneaky", url=f"http://localhost:{server.port}/dyn/a", name="Sneaky"))
        registry = CollectorRegistry()
        ctx = _ctx(tmp_path, redis, registry)
        task = asyncio.create_task(run(ctx))

        async def settled() -> bool:
            queued = await redis.xlen(keys.ARTICLES) >= 2
            return queued and bool((await load_state(redis, "sneaky")).last_error_kind)

        assert await wait_until(settled, timeout=15)
        ctx.stop.set()
        await asyncio.wait_for(task, 15)
    titles = sorted(a.title for a in await queued_articles(redis))
    assert titles == ["Talks resume", "Truce holds in the north"]
    sneaky = await load_state(redis, "sneaky")
    assert sneaky.last_error_kind == "unsafe_url" and "loopback" in sneaky.last_error
    assert server.hits["/dyn/a"] == 1  # only the trusted config feed reached the server
    assert registry.get_sample_value("cw_poller_errors_total", {"kind": "unsafe_url"}) == 1


async def test_refresh_picks_up_feeds_added_and_removed_at_run_time(redis: Redis) -> None:
    configured = [feed_for("base", "https://base.example.org/rss")]
    async with make_poller(redis, []) as poller:
        await refresh(poller, configured)
        assert set(poller.feeds) == {"base"} and poller.queue.due_at("base") is not None
        await add_runtime_feed(redis, FeedConfig(id="extra", url="https://x.example.org/f",
                                                 name="Extra"))
        await refresh(poller, configured)
        assert poller.feeds["extra"].trusted is False
        assert poller.queue.due_at("extra") is not None
        assert poller.feeds["base"].trusted is True  # trust goes with the feed, per fetch
        await remove_runtime_feed(redis, "extra")
        await refresh(poller, configured)
        assert set(poller.feeds) == {"base"} and poller.queue.due_at("extra") is None


async def test_a_deactivated_feed_removed_and_added_again_is_polled_again(redis: Redis) -> None:
    """Removing a run-time feed drops its poll state, so adding it again starts afresh."""
    # Run-time feeds may not point at loopback: every poll of this one fails at once.
    feed = FeedConfig(id="flaky", url="http://127.0.0.1:9/rss", name="Flaky")
    configured = [feed_for("base", "https://base.example.org/rss")]
    await add_runtime_feed(redis, feed)
    async with make_poller(redis, [], settings=tuning(deactivate_after=2)) as poller:
        await refresh(poller, configured)
        for _ in range(2):
            assert (await poller.poll(poller.feeds["flaky"])).outcome == "error"
        assert (await load_state(redis, "flaky")).deactivated == 1
        poller.queue.discard(["flaky"])  # as the run loop leaves a feed it deactivated
        await refresh(poller, configured)
        assert "flaky" in poller.feeds and poller.queue.due_at("flaky") is None
        # A typo of a configured feed's id removes nothing and keeps that feed's state.
        await redis.hset(keys.feed_state("base"), "polls_total", 3)
        assert not await remove_runtime_feed(redis, "base")
        assert (await load_state(redis, "base")).polls_total == 3

        assert await remove_runtime_feed(redis, "flaky")
        assert not await redis.exists(keys.feed_state("flaky"))
        await refresh(poller, configured)
        assert "flaky" not in poller.feeds
        await add_runtime_feed(redis, feed)
        await refresh(poller, configured)
        assert poller.queue.due_at("flaky") is not None  # scheduled again
        state = await load_state(redis, "flaky")
        assert state.deactivated == 0 and state.error_streak == 0


async def test_feed_added_at_run_time_is_polled_without_waiting_for_the_reload(
    redis: Redis, tmp_path: Path
) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    # The full reload is an hour away: only the change counter can bring the feed in.
    registry = CollectorRegistry()
    ctx = _ctx(tmp_path, redis, registry, reload_s=3600, watch_s=0.2)
    task = asyncio.create_task(run(ctx))
    # Started with no feeds at all (its first refresh has counted them).
    assert await wait_until(
        lambda: registry.get_sample_value("cw_poller_feeds", {"state": "active"}) == 0)
    await add_runtime_feed(redis, FeedConfig(id="late", url="http://127.0.0.1:9/rss",
                                             name="Late"))

    async def polled() -> bool:
        return bool((await load_state(redis, "late")).polls_total)

    assert await wait_until(polled, timeout=10)
    ctx.stop.set()
    await asyncio.wait_for(task, 15)
    late = await load_state(redis, "late")
    # Polled (and refused: run-time feeds may not point at loopback addresses).
    assert late.polls_total >= 1 and late.last_error_kind == "unsafe_url"
