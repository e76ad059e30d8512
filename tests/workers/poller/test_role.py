"""The poller role end to end: config feeds polled and queued, run-time feeds guarded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.settings import Settings
from tests.workers.poller.feedserver import FeedServer
from tests.workers.poller.helpers import FAST_LIMITS, queued_articles, rss_with
from workers.poller.config import FeedConfig, add_runtime_feed
from workers.poller.poller import PollerSettings
from workers.poller.role import run
from workers.poller.schedule import ScheduleBounds
from workers.poller.state import load_state


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
        ctx = RoleContext(
            name="poller", settings=Settings(config_dir=tmp_path), redis=redis,
            stop=asyncio.Event(), consumer_name="test-poller-0", registry=registry,
            metrics=CoreMetrics(CollectorRegistry()),
            extras={"poller_settings": PollerSettings(
                limits=FAST_LIMITS, bounds=ScheduleBounds(min_s=1, max_s=5), start_rate=50)},
        )
        task = asyncio.create_task(run(ctx))
        for _ in range(150):  # bounded: up to 15 s
            await asyncio.sleep(0.1)
            done = await redis.xlen("articles") >= 2
            if done and (await load_state(redis, "sneaky")).last_error_kind:
                break
        ctx.stop.set()
        await asyncio.wait_for(task, 15)
    titles = sorted(a.title for a in await queued_articles(redis))
    assert titles == ["Talks resume", "Truce holds in the north"]
    sneaky = await load_state(redis, "sneaky")
    assert sneaky.last_error_kind == "unsafe_url" and "loopback" in sneaky.last_error
    assert server.hits["/dyn/a"] == 1  # only the trusted config feed reached the server
    assert registry.get_sample_value("cw_poller_errors_total", {"kind": "unsafe_url"}) == 1


async def test_refresh_picks_up_feeds_added_and_removed_at_run_time(redis: Redis) -> None:
    from tests.workers.poller.helpers import feed_for, make_poller
    from workers.poller.config import remove_runtime_feed
    from workers.poller.role import refresh

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


async def test_feed_added_at_run_time_is_polled_without_waiting_for_the_reload(
    redis: Redis, tmp_path: Path
) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    ctx = RoleContext(
        name="poller", settings=Settings(config_dir=tmp_path), redis=redis,
        stop=asyncio.Event(), consumer_name="test-poller-0", registry=CollectorRegistry(),
        metrics=CoreMetrics(CollectorRegistry()),
        # The full reload is an hour away: only the change counter can bring the feed in.
        extras={"poller_settings": PollerSettings(
            limits=FAST_LIMITS, bounds=ScheduleBounds(min_s=1, max_s=5), start_rate=50,
            reload_s=3600, watch_s=0.2)},
    )
    task = asyncio.create_task(run(ctx))
    await asyncio.sleep(0.5)  # started with no feeds at all
    await add_runtime_feed(redis, FeedConfig(id="late", url="http://127.0.0.1:9/rss",
                                             name="Late"))
    for _ in range(100):  # bounded: up to 10 s
        await asyncio.sleep(0.1)
        if (await load_state(redis, "late")).polls_total:
            break
    ctx.stop.set()
    await asyncio.wait_for(task, 15)
    late = await load_state(redis, "late")
    # Polled (and refused: run-time feeds may not point at loopback addresses).
    assert late.polls_total >= 1 and late.last_error_kind == "unsafe_url"
