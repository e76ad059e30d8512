"""Publication -> queued article with the DEFAULT poller settings, on a controlled clock.

A local feed server publishes items at chosen (virtual) times; the poller runs with its
default tuning and a clock the test moves from one due poll (or publication) to the next,
so an hour of schedule takes a second and the latencies are exact, not timed.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from redis.asyncio import Redis

from core import keys
from core.feeds import FeedConfig
from core.listen import listen
from core.tuning import PollerTuning
from testkit.feeds import FeedItem, FeedServer
from tests.workers.poller.helpers import feed_for, make_poller, queued_articles, rss_with
from workers.poller.poller import Poller
from workers.poller.state import load_state

DEFAULTS = PollerTuning()  # the service's defaults: nothing here is tuned for the test
JITTER = 1.1  # the schedule's +-10 % spread


@dataclass
class Clock:
    """A clock the test moves by hand (the poller takes every schedule decision on it)."""

    now: float

    def __call__(self) -> float:
        """Return the current virtual time."""
        return self.now


@dataclass
class Simulation:
    """Publications at virtual times, polls when due; what was queued when."""

    poller: Poller
    server: FeedServer
    clock: Clock
    publications: list[tuple[float, str, FeedItem]] = field(default_factory=list)
    queued_at: dict[str, float] = field(default_factory=dict)
    polls: dict[str, list[float]] = field(default_factory=dict)

    def publish(self, at: float, feed_id: str, n: int) -> str:
        """Plan item ``n`` of ``feed_id`` at virtual time ``at``; return its link."""
        link = f"https://news.example.org/{feed_id}/{n}"
        item = FeedItem(guid=link, title=f"{feed_id} story {n}", text=f"Report {n}.",
                        link=link, published=datetime.fromtimestamp(at, UTC))
        heapq.heappush(self.publications, (at, link, item))
        return link

    async def run(self, until: float) -> None:
        """Advance the clock event by event until ``until``: publish, or poll what is due."""
        await self.poller.schedule_feeds(list(self.poller.feeds))
        due = {fid: self.poller.queue.due_at(fid) or self.clock.now
               for fid in self.poller.feeds}
        while True:
            fid = min(due, key=lambda f: due[f])
            next_pub = self.publications[0][0] if self.publications else float("inf")
            at = min(due[fid], next_pub)
            if at > until:
                return
            self.clock.now = max(self.clock.now, at)
            if next_pub <= due[fid]:
                _, link, item = heapq.heappop(self.publications)
                self.server.add(link.split("/")[-2], item)
                continue
            report = await self.poller.poll(self.poller.feeds[fid])
            self.polls.setdefault(fid, []).append(self.clock.now)
            due[fid] = report.next_poll
            for article in await queued_articles(self.poller.redis):
                self.queued_at.setdefault(article.url, self.clock.now)


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def test_publication_to_queue_within_a_minute_with_default_settings(redis: Redis) -> None:
    # Three hours ago, so the items' dates are in the past of the parser's real "now".
    t0 = time.time() - 3 * 3600
    clock = Clock(t0)
    async with FeedServer() as server:
        feeds = [FeedConfig(id=fid, url=server.feed_url(fid), name=fid, priority=fid == "wire")
                 for fid in ("busy", "empty", "quiet", "wire")]
        for feed in feeds:
            server.add_feed(feed.id)
        async with make_poller(redis, feeds, settings=DEFAULTS) as poller:
            poller.clock = clock
            poller.queue.clock = clock
            # Seeded jitter: the median checked below is this run's, not a lucky draw's.
            poller._rng = random.Random(20261205)
            sim = Simulation(poller, server, clock)
            links: dict[str, list[tuple[str, float]]] = {f.id: [] for f in feeds}

            def plan(feed_id: str, at: float, n: int) -> None:
                links[feed_id].append((sim.publish(at, feed_id, n), at))

            # Already there at the first poll: the busy feed's last hour (every 3 minutes).
            for n in range(20):
                sim.server.add("busy", FeedItem(
                    f"old{n}", f"old {n}", "x", f"https://news.example.org/busy/old{n}",
                    datetime.fromtimestamp(t0 - 3600 + n * 180, UTC)))
            for n in range(20):
                plan("busy", t0 + 97 + n * 180, n)
            # Empty at its first poll; its first report comes 7 minutes later.
            for n, minute in enumerate((7, 31, 50)):
                plan("empty", t0 + minute * 60 + 13, n)
            # One report an hour and a half in: a quiet feed is still polled every minute.
            plan("quiet", t0 + 5400 + 29, 0)
            for n in range(12):
                plan("wire", t0 + 41 + n * 500, n)
            await sim.run(until=t0 + 2 * 3600)
            empty_state = await load_state(redis, "empty")

    latency = {fid: [sim.queued_at[link] - at for link, at in items]
               for fid, items in links.items()}
    # Nothing lost, and never before it was published.
    assert all(lat >= 0 for lats in latency.values() for lat in lats)
    news = DEFAULTS.max_interval_s * JITTER
    wire = DEFAULTS.priority_interval_s * JITTER
    for fid in ("busy", "empty", "quiet"):
        assert max(latency[fid]) <= news, (fid, latency[fid])
    assert max(latency["wire"]) <= wire, latency["wire"]
    # The feed empty at its first poll waited the default (a minute), not the maximum of old.
    first, second = sim.polls["empty"][:2]
    assert second - first <= DEFAULTS.default_interval_s * JITTER
    assert empty_state.interval_s <= DEFAULTS.max_interval_s
    # Never faster than the bounds allow: the busy feed learned its rhythm within them.
    gaps = [b - a for a, b in zip(sim.polls["busy"], sim.polls["busy"][1:], strict=False)]
    assert min(gaps) >= DEFAULTS.min_interval_s / JITTER
    wire_gaps = [b - a for a, b in zip(sim.polls["wire"], sim.polls["wire"][1:], strict=False)]
    assert min(wire_gaps) >= DEFAULTS.priority_min_interval_s / JITTER
    everything = [lat for lats in latency.values() for lat in lats]
    assert percentile(everything, 0.5) <= news / 2 + 5


async def _floor_server(body: bytes) -> tuple[web.AppRunner, str]:
    """A server whose feed carries Cache-Control: max-age=300 (on its 304s too)."""

    async def feed(request: web.Request) -> web.Response:
        headers = {"ETag": '"v1"', "Cache-Control": "public, max-age=300"}
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/rss+xml", headers=headers)

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = await listen(runner, "127.0.0.1")
    return runner, f"http://127.0.0.1:{port}/feed.xml"


async def test_publisher_floors_delay_the_next_poll(redis: Redis) -> None:
    runner, url = await _floor_server(rss_with([("a", "Story A")]))
    try:
        async with FeedServer() as server:
            ttl_body = rss_with([("t", "Story T")]).replace(
                b"<title>Test feed</title>", b"<title>Test feed</title><ttl>10</ttl>")
            server.dynamic["ttl"] = ttl_body
            cached = feed_for("cached", url, priority=True)
            ttl = feed_for("ttl", server.url("/dyn/ttl"))
            busy = feed_for("busy", server.url("/status/429"))
            async with make_poller(redis, [cached, ttl, busy], settings=DEFAULTS) as poller:
                clock = Clock(time.time())
                poller.clock = clock
                reports = [await poller.poll(f) for f in (cached, cached, ttl, ttl, busy)]
    finally:
        await runner.cleanup()
    waits = [r.next_poll - clock.now for r in reports]
    # Cache-Control max-age 300 on the 200 and on the 304: not sooner, priority or not.
    assert [r.status for r in reports[:2]] == [200, 304]
    assert min(waits[:2]) >= 300
    # <ttl>10</ttl>: ten minutes, on the 304 too (remembered from the last parse).
    assert reports[3].outcome == "not_modified" and min(waits[2:4]) >= 600
    # 429 with Retry-After: 120 (testkit's hostile endpoint): the retry waits that long.
    assert reports[4].outcome == "error" and waits[4] >= 120


async def test_next_polls_stored_under_slower_settings_are_pulled_in(redis: Redis) -> None:
    clock = Clock(time.time())
    now = clock.now
    stored = {
        "old": {"next_poll": now + 1700},  # scheduled by the old 30-minute maximum
        "ttl": {"next_poll": now + 1700, "publisher_min_s": 3600},  # its <ttl> asks an hour
        "failing": {"next_poll": now + 5000, "error_streak": 6},  # backing off
        "soon": {"next_poll": now + 20},
    }
    for fid, fields in stored.items():
        await redis.hset(keys.feed_state(fid), mapping=fields)  # type: ignore[arg-type]
    feeds = [feed_for(fid, f"http://127.0.0.1:9/{fid}") for fid in stored]
    async with make_poller(redis, feeds, settings=DEFAULTS) as poller:
        poller.clock = clock
        await poller.schedule_feeds([f.id for f in feeds])
        due = {fid: (poller.queue.due_at(fid) or 0) - now for fid in stored}
    assert due["old"] <= DEFAULTS.max_interval_s  # pulled in: polled within the new maximum
    assert (due["ttl"], due["failing"], due["soon"]) == (1700, 5000, 20)
