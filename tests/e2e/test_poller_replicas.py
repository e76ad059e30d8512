"""Two poller processes share the feeds (each feed polled by one); one killed hands on its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from redis.asyncio import Redis

from core.redis_conn import RedisProcess
from testkit.feedgen import item_from_row, write_config
from testkit.feeds import FeedServer
from testkit.pipeline import CLI, REPO
from testkit.procnet import tcp_ports_of
from testkit.waiting import wait_until

POLLER = [*CLI, "poller"]
FEEDS = [f"rep{i}" for i in range(12)]
# A heartbeat TTL long enough that a busy machine never makes a live poller look dead
# (which would, rightly, give its feeds to the other one for a while).
SETTINGS = {"heartbeat_ttl_s": 10, "poller": {"watch_s": 0.5}}
POLLS = 5  # polls of the slowest feed in the window


async def test_two_pollers_poll_each_feed_once_per_interval_and_one_left_takes_all(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    """``redis`` flushes the session's server first: no heartbeat of an earlier test counts."""
    async with FeedServer() as server:
        for fid in FEEDS:
            server.add(fid, item_from_row({"id": f"{fid}-1", "title": f"Story {fid}"}, fid))
        write_config(tmp_path / "config", [
            {"id": fid, "url": server.feed_url(fid), "name": fid, "interval": 1}
            for fid in FEEDS], SETTINGS)
        env = {**os.environ, "REDIS_URL": redis_server.url, "TELEGRAM_BOT_TOKEN": "",
               "DATA_DIR": str(tmp_path / "data"), "CONFIG_DIR": str(tmp_path / "config"),
               "LOG_FORMAT": "json"}

        def polls() -> dict[str, int]:
            return {fid: server.hits[f"/feeds/{fid}.xml"] for fid in FEEDS}

        def each_polled_since(start: dict[str, int], times: int) -> bool:
            now = polls()
            return all(now[f] - start[f] >= times for f in FEEDS)

        log = (tmp_path / "pollers.log").open("ab")
        procs = [subprocess.Popen(POLLER, cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT) for _ in range(2)]
        try:
            # Both up, and each has seen the other's heartbeat move (one beat every third of
            # the TTL; at one poll a second, 10 polls outlast three beats) before the window.
            assert await wait_until(lambda: each_polled_since(dict.fromkeys(FEEDS, 0), 10),
                                    timeout=180), "the pollers never polled every feed"
            # A window in which every feed is polled POLLS times: each by one poller only,
            # told apart by the client ports its requests came from.
            server.client_ports.clear()
            start = polls()
            assert await wait_until(lambda: each_polled_since(start, POLLS), timeout=180)
            ports = {proc.pid: tcp_ports_of(proc.pid) for proc in procs}
            pollers_of = {fid: {pid for pid, mine in ports.items()
                                if mine & server.client_ports.get(fid, set())} for fid in FEEDS}
            assert all(len(p) == 1 for p in pollers_of.values()), pollers_of
            assert {pid for p in pollers_of.values() for pid in p} == set(ports), (
                f"one poller polled nothing: {pollers_of}")
            # One poller dies without a word: once its heartbeat is stale, the other polls
            # every feed, its own and the dead one's.
            procs[0].kill()
            procs[0].wait(10)
            after = polls()
            assert await wait_until(lambda: each_polled_since(after, 3), timeout=180), (
                f"feeds left unpolled after a poller died: {polls()} since {after}")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                await asyncio.to_thread(proc.wait, 30)
            log.close()
