"""Whole-pipeline benchmark: many local feeds -> poller -> classifier -> notifier -> Bot API.

New items appear on ``--feeds`` local RSS feeds at ``--rate`` items/s for ``--seconds``; a
tenth report violations, each in one of ``--zones`` regions followed by its own chat (so the
messages stay within Telegram's 30/s and 1/s per chat). Prints the sustained articles/s, the
latency from the moment the feed server first served an item to the Bot API call carrying its
link (p50/p99/max), and CPU and peak RSS of the service (total in one process, per role with
``--split``). The feed server and the Bot API emulator run in this process, the service in
child processes (``ceasefire-watch run``) against a private redis-server with AOF.
``--progress N`` also prints queue depths every N seconds, when the slowest items were served,
and how many Redis commands each article cost (scripts' inner commands included).

    .venv/bin/python -m bench.pipeline --rate 200 --seconds 30
    .venv/bin/python -m bench.pipeline --rate 200 --seconds 30 --split
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.procstat import cpu_seconds, descendants, peak_rss_mib
from bot.store.subscriptions import SubscriptionStore
from core import keys
from core.keys import ARTICLES
from core.redis_conn import RedisProcess, make_client
from core.streams import stream_stats
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feedgen import Generator, write_config
from testkit.feeds import FeedServer
from testkit.pipeline import CLI, GROUPS, REPO, drained, stop_processes
from testkit.waiting import wait_until

TOKEN = "777888999:BENCHpipelineTOKENabcdefghijklmnopqr"
ROLES = ("poller", "classifier", "truces", "notifier")
_HREF = re.compile(r'href="([^"]+)"')


class TimedEmulator(BotAPIEmulator):
    """The Bot API emulator, also noting when a message first carried each link."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.link_seen: dict[str, float] = {}

    def _note(self, params: dict[str, Any]) -> None:
        now = time.time()
        for url in _HREF.findall(str(params.get("text") or "")):
            self.link_seen.setdefault(url, now)

    async def _m_sendMessage(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        self._note(params)
        return await super()._m_sendMessage(params, chat_id)

    async def _m_editMessageText(
        self, params: dict[str, Any], chat_id: int | None
    ) -> web.Response:
        self._note(params)
        return await super()._m_editMessageText(params, chat_id)


def proc_usage(pid: int, *, tree: bool = True) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of a live process and its children, from /proc.

    Children count: with ``POLLER__PARSE_EXECUTOR=process`` the parsing happens in them.
    Peak RSS is the sum of each process's own peak, an upper bound on the tree's.
    """
    cpu = peak = 0.0
    for p in descendants(pid) if tree else [pid]:
        with contextlib.suppress(OSError):  # a child may exit between listing and reading
            cpu += cpu_seconds(p)
            peak += peak_rss_mib(p)
    return cpu, peak


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def progress(redis: Any, emulator: TimedEmulator, every_s: float) -> None:
    """Print queue depths every ``every_s`` seconds (``--progress``), to see the bottleneck."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        parts = [f"t={time.monotonic() - started:5.1f}s"]
        for stream, group in GROUPS:
            stats = await stream_stats(redis, stream, group)
            parts.append(f"{stream} len {stats.length} lag {stats.lag} pending {stats.pending}")
        parts.append(f"sent {emulator.total_sent}")
        print(" | ".join(parts), flush=True)


async def run(args: argparse.Namespace) -> int:
    """Set up, load, measure, print; return the exit code."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    server = RedisProcess(tmp / "redis")
    server.start()
    redis = make_client(server.url)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    gen = Generator(args.feeds, args.zones, random.Random(args.seed))
    emulator = TimedEmulator(TOKEN)
    try:
        async with FeedServer(max_items=50) as feeds, emulator:
            feed_cfg = []
            for f in range(args.feeds):
                feeds.add_feed(f"bench-{f}")
                feed_cfg.append({
                    "id": f"bench-{f}", "url": feeds.feed_url(f"bench-{f}"), "name": f"Bench {f}",
                    "language": "en", "region_hints": [f"zone-{f % args.zones}"],
                })
            write_config(tmp / "config", feed_cfg, {
                "poller": {"min_interval_s": 1, "default_interval_s": 1, "max_interval_s": 2,
                           "max_rate": 5000, "per_host": 100, "concurrency": 256},
                "streams": {"block_ms": 200},
                "log_level": "WARNING",
            })
            store = SubscriptionStore(redis)
            for z in range(args.zones):
                await store.subscribe(1000 + z, [f"zone-{z}"])
                await store.update(1000 + z, threshold=0.0)
            env = {
                **os.environ, "REDIS_URL": server.url, "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": emulator.url, "DATA_DIR": str(tmp / "data"),
                "CONFIG_DIR": str(tmp / "config"), "LOG_FORMAT": "json",
            }
            groups = [[r] for r in ROLES] if args.split else [list(ROLES)]
            for roles in groups:
                name = ",".join(roles)
                with (tmp / f"{roles[0]}.log").open("wb") as log:
                    procs[name] = subprocess.Popen(
                        [*CLI, name], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
            async def started() -> bool:
                return len(await redis.hkeys(keys.HEARTBEATS)) >= len(ROLES) and feeds.requests > 0

            if not await wait_until(started, timeout=60):
                raise RuntimeError(f"service did not start; logs in {tmp}")
            await asyncio.sleep(2.0)  # warm-up: let the cold start walk through every feed once
            base = {name: proc_usage(p.pid)[0] for name, p in procs.items()}
            violations: list[str] = []
            total = int(args.rate * args.seconds)
            print(f"producing {total} items on {args.feeds} feeds at {args.rate}/s "
                  f"({'one process per role' if args.split else 'all roles in one process'})")
            began, t0 = time.monotonic(), time.time()
            watcher = (asyncio.create_task(progress(redis, emulator, args.progress))
                       if args.progress else None)
            tick = 0.05
            while gen.made < total and time.monotonic() - began < args.seconds + 30:
                due = min(total, int((time.monotonic() - began) * args.rate) + 1)
                while gen.made < due:
                    feed_id, item, is_violation = gen.next()
                    feeds.add(feed_id, item)
                    if is_violation:
                        violations.append(item.link)
                await asyncio.sleep(tick)  # the offered load's pace
            produced_s = time.monotonic() - began

            async def finished() -> bool:
                return (await drained(redis, gen.made)
                        and all(v in emulator.link_seen for v in violations))

            await wait_until(finished, timeout=60)
            done_s = time.monotonic() - began
            usage = {name: proc_usage(p.pid) for name, p in procs.items()}
            if watcher is not None:
                watcher.cancel()
            queued = int(await redis.xlen(ARTICLES))
            stats = await redis.info("commandstats")
            lat = [emulator.link_seen[v] - feeds.served[v] for v in violations
                   if v in emulator.link_seen and v in feeds.served]
            await stop_processes(procs)  # while the servers still answer their in-flight requests
    finally:
        await stop_processes(procs)
        await redis.aclose()
        server.stop()
    missing = len(violations) - len(lat)
    print(f"articles: {gen.made} produced in {produced_s:.1f}s = {gen.made / produced_s:.0f}/s "
          f"offered; {queued} queued; pipeline drained {done_s - produced_s:.1f}s after the last "
          f"item -> sustained {queued / done_s:.0f} articles/s end to end")
    print(f"violation messages: {len(lat)} of {len(violations)} delivered ({missing} missing), "
          f"429s from the emulator: {emulator.counters.rate_limited}")
    if lat and args.progress:
        # When the slow ones were served: spikes that line up with a period point at a cause.
        worst = sorted(((feeds.served[v] - t0, emulator.link_seen[v] - feeds.served[v])
                        for v in violations if v in emulator.link_seen and v in feeds.served),
                       key=lambda p: -p[1])[:15]
        print("slowest (served at s: latency ms): " + ", ".join(
            f"{at:.1f}: {late * 1000:.0f}" for at, late in sorted(worst)))
    if lat:
        print(f"fetch -> Bot API latency: p50 {pct(lat, 0.5) * 1000:.0f} ms, "
              f"p99 {pct(lat, 0.99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")
    if args.progress:
        # Round trips dominate the CPU of a Python service: which commands, per article.
        calls = sorted(((int(v["calls"]), k.removeprefix("cmdstat_")) for k, v in stats.items()),
                       reverse=True)
        print("redis calls per article: " + ", ".join(
            f"{name} {n / max(queued, 1):.2f}" for n, name in calls[:14]))
    for name, (cpu, peak) in usage.items():
        busy = cpu - base[name]
        print(f"[{name}] CPU {busy:.1f}s over {done_s:.1f}s ({busy / done_s:.0%} of a core), "
              f"peak RSS {peak:.0f} MiB")
    print(f"bench process (feed server + emulator): peak RSS "
          f"{proc_usage(os.getpid(), tree=False)[1]:.0f} MiB; logs in {tmp}")
    return 0 if missing == 0 else 1


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rate", type=float, default=200.0, help="new items per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to produce")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--zones", type=int, default=50, help="regions, one chat each")
    parser.add_argument("--split", action="store_true", help="one process per role")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--progress", type=float, default=0.0,
                        help="print queue depths every N seconds (0 = off)")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
