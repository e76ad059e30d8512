"""Publication -> queued article, in real time, with the poller's DEFAULT settings.

A local feed server (testkit) publishes items at random moments on news feeds, on feeds
empty at their first poll and on `priority: true` feeds; one Poller (default PollerTuning:
60 s for news, 30 s for priority feeds) polls them on its own schedule. The latency of an
item is from the moment the server first lists it to the moment its article is on the
``articles`` stream (the entry id's Redis time). Prints count, p50, p99 and max per kind.

    .venv/bin/python -m bench.poll_latency                      # about 4 minutes
    .venv/bin/python -m bench.poll_latency --seconds 120 --items 60

Bounded: items are published for ``--seconds``, then the bench waits at most two polling
intervals for the last ones; an item not queued by then is counted as lost.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from core.feeds import FeedConfig
from core.keys import ARTICLES
from core.models import Article, decode
from core.redis_conn import RedisProcess, make_client
from core.tuning import PollerTuning
from testkit.feeds import FeedItem, FeedServer
from workers.poller.fetch import Fetcher, FetchLimits
from workers.poller.parse_pool import ParsePool
from workers.poller.poller import Poller


@dataclass
class Published:
    """Items published, by link: (kind, time first listed)."""

    items: dict[str, tuple[str, float]] = field(default_factory=dict)


def quantile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def print_latencies(
    published: Published, done: dict[str, float], kinds: tuple[str, ...], noun: str
) -> int:
    """Print p50/p99/max per kind and for all; return how many items never arrived."""
    by_kind: dict[str, list[float]] = {}
    lost = 0
    for link, (kind, at) in published.items.items():
        if link not in done:
            lost += 1
            continue
        for key in (kind, "all"):
            by_kind.setdefault(key, []).append(done[link] - at)
    for kind in (*kinds, "all"):
        lat = by_kind.get(kind, [])
        if lat:
            print(f"  {kind:<20} {len(lat):>4} {noun:<6}  p50 {quantile(lat, 0.5):6.2f} s  "
                  f"p99 {quantile(lat, 0.99):6.2f} s  max {max(lat):6.2f} s")
    return lost


async def publisher(
    server: FeedServer, feeds: list[tuple[str, str]], args: argparse.Namespace,
    out: Published, rng: random.Random,
) -> None:
    """Publish ``args.items`` items at uniformly random moments over ``args.seconds``."""
    start = time.time()
    moments = sorted(rng.uniform(0, args.seconds) for _ in range(args.items))
    for n, at in enumerate(moments):
        await asyncio.sleep(max(0.0, start + at - time.time()))
        feed_id, kind = rng.choice(feeds)
        link = f"https://bench.example/{feed_id}/{n}"
        now = time.time()
        server.add(feed_id, FeedItem(guid=link, title=f"Story {n}", text=f"Report {n}.",
                                     link=link, published=datetime.fromtimestamp(now, UTC)))
        out.items[link] = (kind, now)


async def queued_times(redis: Any) -> dict[str, float]:
    """Return link -> when its article reached ``articles`` (the entry id is Redis's ms)."""
    rows = cast(list[tuple[str, dict[str, str]]], await redis.xrange(ARTICLES))
    return {decode(fields, Article).url: int(entry_id.split("-")[0]) / 1000
            for entry_id, fields in rows}


async def run(args: argparse.Namespace, redis_url: str) -> None:
    """Run the poller on default settings against the publishing server; print latencies."""
    tuning = PollerTuning()
    rng = random.Random(args.seed)
    redis = make_client(redis_url)
    await redis.flushdb()
    published = Published()
    async with FeedServer() as server:
        feeds: list[FeedConfig] = []
        kinds: list[tuple[str, str]] = []
        for i in range(args.feeds):
            kind = ("priority" if i < args.priority
                    else "empty at first poll" if i % 2 else "news")
            fid = f"f{i}"
            server.add_feed(fid)
            if kind != "empty at first poll":  # the others already list older stories
                for k in range(5):
                    link = f"https://bench.example/{fid}/old{k}"
                    server.add(fid, FeedItem(
                        guid=link, title=f"Old {k}", text="x", link=link,
                        published=datetime.fromtimestamp(time.time() - 3600 + k * 600, UTC)))
            feeds.append(FeedConfig(id=fid, url=server.feed_url(fid), name=fid,
                                    priority=kind == "priority"))
            kinds.append((fid, kind))
        async with Fetcher(FetchLimits.of(tuning)) as fetcher, \
                ParsePool(tuning.parse_executor, tuning.parse_workers) as pool:
            poller = Poller(redis, fetcher, pool, tuning)
            poller.set_feeds(feeds)
            await poller.schedule_feeds([f.id for f in feeds])
            stop = asyncio.Event()
            loop = asyncio.create_task(poller.run(stop))
            started = time.time()
            await publisher(server, kinds, args, published, rng)
            deadline = time.time() + 2 * tuning.max_interval_s * 1.1
            while time.time() < deadline:
                done = await queued_times(redis)
                if all(link in done for link in published.items):
                    break
                await asyncio.sleep(1.0)
            stop.set()
            await loop
            elapsed = time.time() - started
            polls = server.requests
            not_modified = server.not_modified
    done = await queued_times(redis)
    await redis.aclose()
    print(f"{args.feeds} feeds ({args.priority} priority, about half the rest empty at their "
          f"first poll), {len(published.items)} items over {args.seconds:.0f} s, default "
          f"settings (news {tuning.default_interval_s:g} s, priority "
          f"{tuning.priority_interval_s:g} s); {polls} polls in {elapsed:.0f} s, "
          f"{not_modified} of them 304")
    lost = print_latencies(published, done, ("news", "empty at first poll", "priority"), "items")
    print(f"  lost (not queued within two intervals of the last publication): {lost}")


def main() -> None:
    """Parse arguments, start a Redis of our own, run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--priority", type=int, default=8, help="of them, priority feeds")
    parser.add_argument("--items", type=int, default=150, help="items published in all")
    parser.add_argument("--seconds", type=float, default=240.0, help="publishing window")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        RedisProcess(Path(tmp), appendonly=False) as redis_proc,
    ):
        asyncio.run(run(args, redis_proc.url))


if __name__ == "__main__":
    main()
