"""Poller replicas: polls per feed per interval with 1 and with N poller processes, and hand-over.

Real ``ceasefire-watch run --roles poller`` processes on one Redis poll K feeds of a local
server, each at a fixed interval. The server's request counts, read every 0.2 s, give each
feed's poll times. Prints, for 1 and for N replicas, the polls per feed per interval (1.0 is
one poll per interval, N.0 would be every replica polling every feed); then one replica is
SIGKILLed and the bench prints the longest a feed then went unpolled (its interval plus the
heartbeat TTL at most, when the dead replica's feeds are handed on).

    .venv/bin/python -m bench.replicas                       # about 3 minutes
    .venv/bin/python -m bench.replicas --replicas 4 --seconds 60

Bounded: each phase lasts ``--seconds``; every wait for a start or a poll gives up after 120 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from core.redis_conn import RedisProcess
from testkit.feedgen import write_config
from testkit.feeds import FeedItem, FeedServer
from testkit.pipeline import CLI, REPO

HEARTBEAT_TTL_S = 4.0


class PollLog:
    """Each feed's poll times, read from the server's request counts."""

    def __init__(self, server: FeedServer, feed_ids: list[str]) -> None:
        """Watch ``feed_ids`` on ``server``."""
        self.server = server
        self.paths = {fid: f"/feeds/{fid}.xml" for fid in feed_ids}
        self.times: dict[str, list[float]] = {fid: [] for fid in feed_ids}
        self._seen = {fid: 0 for fid in feed_ids}

    def sample(self) -> None:
        """Note the polls since the last sample."""
        now = time.monotonic()
        for fid, path in self.paths.items():
            count = self.server.hits[path]
            self.times[fid] += [now] * (count - self._seen[fid])
            self._seen[fid] = count

    async def run(self, stop: asyncio.Event) -> None:
        """Sample every 0.2 s until ``stop``."""
        while not stop.is_set():
            self.sample()
            await asyncio.sleep(0.2)

    def between(self, start: float, end: float) -> dict[str, int]:
        """Return each feed's polls in [start, end)."""
        return {fid: sum(start <= t < end for t in ts) for fid, ts in self.times.items()}


async def wait_for(check: Callable[[], bool], timeout: float = 120.0) -> None:
    """Wait until ``check()`` is true; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s waiting for the pollers")
        await asyncio.sleep(0.2)


def start(n: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    """Start ``n`` poller processes."""
    procs = []
    for i in range(n):
        out = (logs / f"poller-{time.monotonic_ns()}-{i}.log").open("ab")
        procs.append(subprocess.Popen([*CLI, "poller"], cwd=REPO, env=env, stdout=out,
                                      stderr=subprocess.STDOUT))
    return procs


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process and wait for it (SIGKILL after 30 s)."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


async def phase(n: int, log: PollLog, env: dict[str, str], tmp: Path,
                args: argparse.Namespace, *, kill_one: bool) -> None:
    """Run ``n`` replicas for ``args.seconds``; print polls per feed per interval."""
    procs = start(n, env, tmp)
    try:
        begun = time.monotonic()
        # Every replica up (each has polled), then a warm-up interval for the shares to settle.
        await wait_for(lambda: all(log.between(begun, time.monotonic()).values()))
        await asyncio.sleep(args.interval + HEARTBEAT_TTL_S)
        t0 = time.monotonic()
        await asyncio.sleep(args.seconds)
        counts = list(log.between(t0, time.monotonic()).values())
        per = [c / (args.seconds / args.interval) for c in counts]
        print(f"  {n} replica(s): polls per feed per {args.interval:g} s interval: mean "
              f"{statistics.mean(per):.2f}, max {max(per):.2f}, min {min(per):.2f}")
        if kill_one:
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)
            killed = time.monotonic()
            await asyncio.sleep(args.interval * 2 + HEARTBEAT_TTL_S * 3)
            gaps = []
            for ts in log.times.values():
                before = max((t for t in ts if t < killed), default=killed)
                after = min((t for t in ts if t >= killed), default=float("inf"))
                gaps.append(after - before)
            print(f"  one of {n} SIGKILLed: longest a feed went unpolled {max(gaps):.1f} s "
                  f"(interval {args.interval:g} s, heartbeat TTL {HEARTBEAT_TTL_S:g} s); "
                  f"feeds never polled again: {sum(g == float('inf') for g in gaps)}")
    finally:
        stop_all(procs)


async def main_async(args: argparse.Namespace, tmp: Path, redis_url: str) -> None:
    """Serve the feeds, then run each phase."""
    async with FeedServer() as server:
        ids = [f"r{i}" for i in range(args.feeds)]
        for fid in ids:
            server.add(fid, FeedItem(guid=f"{fid}-1", title=f"Story of {fid}", text="x",
                                     link=f"https://example.org/{fid}/1",
                                     published=datetime.now(UTC)))
        write_config(tmp / "config", [
            {"id": fid, "url": server.feed_url(fid), "name": fid, "interval": args.interval}
            for fid in ids], {"heartbeat_ttl_s": HEARTBEAT_TTL_S, "poller": {"watch_s": 1}})
        env = {**os.environ, "REDIS_URL": redis_url, "TELEGRAM_BOT_TOKEN": "",
               "DATA_DIR": str(tmp / "data"), "CONFIG_DIR": str(tmp / "config"),
               "LOG_FORMAT": "json"}
        log = PollLog(server, ids)
        stop = asyncio.Event()
        sampler = asyncio.create_task(log.run(stop))
        print(f"{args.feeds} feeds at a fixed {args.interval:g} s interval, "
              f"{args.seconds:g} s per phase")
        try:
            await phase(1, log, env, tmp, args, kill_one=False)
            await phase(args.replicas, log, env, tmp, args, kill_one=True)
        finally:
            stop.set()
            await sampler


def main() -> None:
    """Parse arguments, start Redis, run the phases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=60)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RedisProcess(Path(tmp), appendonly=False) as redis:
        asyncio.run(main_async(args, Path(tmp), redis.url))


if __name__ == "__main__":
    main()
