"""Poller throughput: N feeds (copies of the real files in ../shared/feeds) on a local server.

Prints, per feed count, polls/s on the 304 path (a first pass that reads each feed's state
from Redis, then passes that remember it, as a running poller does), the unchanged-body path
(200, same bytes, no validators: hashed, not parsed), the changed-body path (200, full parse
+ dedupe) and a bare aiohttp loop on the same URLs as the ceiling; CPU seconds per poll
(poller process + parse workers; the feed server runs in its own process and is not
counted) and peak RSS. The remembered 304 pass and the bare 304 loop alternate ``--repeat``
times and their medians are compared: on a shared machine one short pass of each can differ
by half.

    /work/venv/bin/python bench/poller.py                 # 1,000 and 10,000 feeds
    /work/venv/bin/python bench/poller.py --feeds 1000 --seconds 20 --parse thread
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import multiprocessing
import multiprocessing.connection
import re
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bench.procstat import cpu_seconds, peak_rss_mib, private_mib
from core import keys
from core.feeds import FeedConfig
from core.redis_conn import RedisProcess, make_client
from core.tuning import PollerTuning
from workers.poller.fetch import Fetcher, FetchLimits
from workers.poller.items import split_items
from workers.poller.metrics import PollerMetrics
from workers.poller.parse import FeedInfo
from workers.poller.parse_pool import ParseKind, ParsePool
from workers.poller.poller import Poller
from workers.poller.state import FeedState

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "feeds"


def real_site_files(folder: Path) -> list[Path]:
    """Return the feed files captured from real sites (not the synthetic/broken odd_ ones)."""
    return sorted(p for p in folder.iterdir()
                  if p.suffix != ".md" and not p.name.startswith("odd_")
                  and "INVALID" not in p.name and p.suffix != ".gz")


def etag_of(body: bytes) -> str:
    """Return the ETag the bench server sends for ``body``."""
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


# A story's URL where an entry gives it: RSS <link> and <guid> text, an Atom link's href.
_ITEM_URL = re.compile(
    rb"(<link>\s*(?:<!\[CDATA\[)?\s*|<guid[^>]*>\s*(?:<!\[CDATA\[)?\s*"
    rb"|<link\b[^>]*?\bhref=[\"'])(https?://)")


def _serve(folder: str, conn: multiprocessing.connection.Connection) -> None:
    """Feed server process: /etag/<i> (304-capable), /same/<i>, /changing/<i>, /first/<i>."""
    from aiohttp import web

    bodies = [p.read_bytes() for p in real_site_files(Path(folder))]
    tags = [etag_of(b) for b in bodies]
    counter = [0]

    async def etag(request: web.Request) -> web.Response:
        i = int(request.match_info["i"]) % len(bodies)
        if request.headers.get("If-None-Match") == tags[i]:
            return web.Response(status=304, headers={"ETag": tags[i]})
        return web.Response(body=bodies[i], headers={"ETag": tags[i],
                                                     "Content-Type": "application/rss+xml"})

    async def same(request: web.Request) -> web.Response:
        i = int(request.match_info["i"]) % len(bodies)
        return web.Response(body=bodies[i], content_type="application/rss+xml")

    async def changing(request: web.Request) -> web.Response:
        i = int(request.match_info["i"]) % len(bodies)
        counter[0] += 1
        return web.Response(body=bodies[i] + f"<!-- {counter[0]} -->".encode(),
                            content_type="application/rss+xml")

    async def first(request: web.Request) -> web.Response:
        # Copy k of a file links its stories under hosts of its own (ck.), as distinct feeds
        # do: every item is then new to the dedupe and queued, as on a real first poll.
        n = int(request.match_info["i"])
        i, k = n % len(bodies), n // len(bodies)
        body = _ITEM_URL.sub(rb"\1\2c%d." % k, bodies[i]) if k else bodies[i]
        return web.Response(body=body, content_type="application/rss+xml")

    async def newitem(request: web.Request) -> web.Response:
        i = int(request.match_info["i"]) % len(bodies)
        counter[0] += 1
        body, n = bodies[i], counter[0]
        at = min((p for p in (body.find(b"<item"), body.find(b"<entry")) if p >= 0), default=-1)
        if body.find(b"<entry") == at:
            extra = (f"<entry><title>Bench story {n}</title><id>urn:bench:{n}</id>"
                     f'<link href="https://bench.example/{n}"/></entry>')
        else:
            extra = (f"<item><title>Bench story {n}</title>"
                     f"<link>https://bench.example/{n}</link></item>")
        return web.Response(body=body[:at] + extra.encode() + body[at:],
                            content_type="application/rss+xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/etag/{i}", etag)
        app.router.add_get("/same/{i}", same)
        app.router.add_get("/changing/{i}", changing)
        app.router.add_get("/newitem/{i}", newitem)
        app.router.add_get("/first/{i}", first)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        conn.send(server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await runner.cleanup()

    asyncio.run(main())


async def save_states(redis: Redis, states: dict[str, FeedState]) -> None:
    """Store many feed states in one pipeline."""
    pipe = redis.pipeline(transaction=False)
    for fid, st in states.items():
        pipe.hset(keys.feed_state(fid), mapping=st.to_hash())  # type: ignore[arg-type]
    await pipe.execute()


@dataclass
class Phase:
    """One measured phase."""

    name: str
    polls: int
    seconds: float
    cpu_s: float
    outcomes: dict[str, int]

    @property
    def rate(self) -> float:
        """Return polls per second."""
        return self.polls / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """Return the printed row."""
        rate = self.rate
        cpu = self.cpu_s / self.polls * 1000 if self.polls else 0.0
        mix = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        return (f"  {self.name:<34} {self.polls:>6} polls {self.seconds:7.1f} s "
                f"{rate:8.1f} polls/s  {cpu:6.2f} ms CPU/poll  [{mix}]")


def median_phase(phases: list[Phase]) -> Phase:
    """Return the phase of median rate (the upper one of an even count)."""
    return sorted(phases, key=lambda p: p.rate)[len(phases) // 2]


class Cpu:
    """CPU seconds of this process plus the parse worker processes."""

    def __init__(self, pool: ParsePool) -> None:
        self.pool = pool

    def _worker_pids(self) -> list[int]:
        ex = self.pool._executor
        if isinstance(ex, ProcessPoolExecutor):
            return list((ex._processes or {}).keys())
        return []

    def now(self) -> float:
        """Return total CPU seconds used so far."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        total = own.ru_utime + own.ru_stime
        for pid in self._worker_pids():
            try:
                total += cpu_seconds(pid)
            except OSError:
                continue
        return total

    def worker_peak_mib(self) -> float:
        """Return the summed peak RSS of the parse workers."""
        return sum(peak_rss_mib(pid) for pid in self._worker_pids())

    def worker_private_mib(self) -> float:
        """Return the summed private memory of the parse workers now (what they add)."""
        return sum(private_mib(pid) for pid in self._worker_pids())


async def bounded(
    items: list[FeedConfig], fn: Callable[[FeedConfig], Awaitable[str]], concurrency: int,
    deadline: float,
) -> tuple[int, dict[str, int]]:
    """Run ``fn`` over ``items`` with a concurrency cap until done or past ``deadline``."""
    outcomes: dict[str, int] = {}
    it = iter(items)
    done = 0

    async def worker() -> None:
        nonlocal done
        for feed in it:
            if time.monotonic() > deadline:
                return
            outcome = await fn(feed)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, outcomes


async def run_for(n: int, port: int, redis_url: str, args: argparse.Namespace) -> None:
    """Run every phase for ``n`` feeds and print the figures."""
    files = real_site_files(SHARED)
    bodies = [p.read_bytes() for p in files]
    redis = make_client(redis_url)
    await redis.flushdb()
    settings = PollerTuning(concurrency=args.concurrency)
    # Every feed is on one local host: only the concurrency may bound the polls in flight.
    limits = replace(FetchLimits.of(settings), per_host=args.concurrency,
                     max_connections=args.concurrency)
    registry = CollectorRegistry()

    def feeds(mode: str) -> list[FeedConfig]:
        return [FeedConfig(id=f"f{i}", url=f"http://127.0.0.1:{port}/{mode}/{i}",
                           name=f"{files[i % len(files)].stem}") for i in range(n)]

    async with Fetcher(limits) as fetcher, ParsePool(args.parse, 2) as pool:
        print(f"\n{n} feeds ({len(files)} real files, mean body "
              f"{sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB), concurrency "
              f"{args.concurrency}, parse in {pool.kind} pool x2, phase cap {args.seconds:.0f} s")
        cpu = Cpu(pool)
        poller = Poller(redis, fetcher, pool, settings, PollerMetrics(registry))

        async def phase(name: str, mode: str) -> Phase:
            batch = feeds(mode)
            poller.set_feeds(batch)

            async def one(feed: FeedConfig) -> str:
                report = await poller.poll(feed)
                return report.error_kind or report.outcome

            c0, t0 = cpu.now(), time.monotonic()
            done, outcomes = await bounded(batch, one, args.concurrency, t0 + args.seconds)
            return Phase(name, done, time.monotonic() - t0, cpu.now() - c0, outcomes)

        # Start the workers before measuring.
        await pool.parse(bodies[0], {}, FeedInfo("warmup", "warmup"), "http://x/",
                         datetime.now(UTC))
        results = [await phase("200 first poll (full parse+queue)", "first")]
        # Prime the state a first poll of every feed leaves (validators, body and item hashes).
        primed = {}
        for i in range(n):
            body = bodies[i % len(bodies)]
            blocks = split_items(body)
            primed[f"f{i}"] = FeedState(
                etag=etag_of(body), body_hash=hashlib.blake2b(body, digest_size=16).hexdigest(),
                item_hashes=" ".join(blocks.hashes) if blocks else "", interval_s=600)
        await save_states(redis, primed)
        results.append(await phase("304 not modified", "etag"))
        # A running poller's usual poll: the state it wrote last time is still in memory
        # (lease.py), so taking the lease replies only that nothing changed. Alternated with
        # the bare loop, so that both see the machine as it is then.
        remembered: list[Phase] = []
        bare_304: list[Phase] = []
        for _ in range(args.repeat):
            remembered.append(await phase("304 again (state remembered)", "etag"))
            bare_304 += await bare_loop(n, port, args, cpu, only_304=True)
        results.append(median_phase(remembered))
        for st in primed.values():
            st.etag = ""
        await save_states(redis, primed)
        results.append(await phase("200 same body (hash, no parse)", "same"))
        await save_states(redis, primed)
        results.append(await phase("200 new bytes, same items (no parse)", "changing"))
        await save_states(redis, primed)
        results.append(await phase("200 one new item (partial parse)", "newitem"))
        results.append(median_phase(bare_304))
        results += await bare_loop(n, port, args, cpu, only_304=False)
        for r in results:
            print(r.line())
        ours, bare = median_phase(remembered), median_phase(bare_304)
        print(f"  304 (state remembered) / bare aiohttp 304: {ours.rate / bare.rate:.0%} "
              f"(medians of {args.repeat} alternating passes)")
        print(f"  peak RSS: poller process {peak_rss_mib():.0f} MiB, "
              f"parse workers {cpu.worker_peak_mib():.0f} MiB (sum; "
              f"{cpu.worker_private_mib():.0f} MiB of it their own), "
              f"articles queued {await redis.xlen('articles')}")
    await redis.aclose()


async def bare_loop(
    n: int, port: int, args: argparse.Namespace, cpu: Cpu, *, only_304: bool
) -> list[Phase]:
    """The ceiling: one aiohttp session GETting the same URLs, reading bodies, nothing else.

    The 304 loop, or (``only_304`` False) the 200 loop.
    """
    out = []
    files = real_site_files(SHARED)
    tags = [etag_of(p.read_bytes()) for p in files]
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        loops = ((("bare aiohttp 304", "etag", True),) if only_304
                 else (("bare aiohttp 200 (read body)", "same", False),))
        for name, mode, conditional in loops:
            urls = [FeedConfig(id=f"f{i}", url=f"http://127.0.0.1:{port}/{mode}/{i}", name="x")
                    for i in range(n)]

            async def get(feed: FeedConfig, cond: bool = conditional) -> str:
                i = int(feed.id[1:]) % len(tags)
                headers = {"If-None-Match": tags[i]} if cond else {}
                async with session.get(feed.url, headers=headers) as resp:
                    await resp.read()
                    return str(resp.status)

            c0, t0 = cpu.now(), time.monotonic()
            done, outcomes = await bounded(urls, get, args.concurrency, t0 + args.seconds)
            out.append(Phase(name, done, time.monotonic() - t0, cpu.now() - c0, outcomes))
    return out


def main() -> None:
    """Parse arguments, start Redis and the feed server, run each feed count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=30.0, help="cap per phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--parse", choices=["auto", "process", "thread"], default="auto",
                        help="the parse pool (auto, as the service: processes on 2+ CPUs)")
    parser.add_argument("--repeat", type=int, default=7,
                        help="alternating passes of the remembered 304 and the bare 304 loop")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"../shared/feeds not found at {SHARED}")
    logging.basicConfig(level=logging.WARNING)
    kind: ParseKind = args.parse
    args.parse = kind
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(str(SHARED), there), daemon=True)
    server.start()
    with (
        tempfile.TemporaryDirectory() as tmp,
        RedisProcess(Path(tmp), appendonly=False) as redis_proc,
    ):
        try:
            port = here.recv()
            for n in args.feeds:
                asyncio.run(run_for(n, port, redis_proc.url, args))
        finally:
            here.send("stop")
            server.join(10)
            if server.is_alive():
                server.kill()


if __name__ == "__main__":
    main()
