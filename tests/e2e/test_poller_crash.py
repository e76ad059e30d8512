"""A poller SIGKILLed in the middle of a poll: the restarted poller must fetch that feed soon."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from redis.asyncio import Redis

from core.keys import LEASE_PREFIX
from core.redis_conn import RedisProcess
from testkit.feedgen import item_from_row as _row_item
from testkit.feedgen import write_config
from testkit.feeds import FeedItem, FeedServer
from testkit.pipeline import CLI, REPO
from testkit.waiting import wait_until

POLLER = [*CLI, "poller"]
FAST = {"poller": {"min_interval_s": 1, "default_interval_s": 1, "max_interval_s": 2},
        "heartbeat_ttl_s": 2}


def _item() -> FeedItem:
    return _row_item({"id": "k1", "title": "Shelling despite the truce", "text": "x"}, "slow")


async def test_restarted_poller_refetches_a_feed_it_was_killed_polling(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    async with FeedServer() as feeds:
        feeds.add("slow", _item())
        feeds.stall["slow"] = 30.0
        write_config(tmp_path / "config",
                     [{"id": "slow", "url": feeds.feed_url("slow"), "name": "Slow"}], FAST)
        env = {**os.environ, "REDIS_URL": redis_server.url, "TELEGRAM_BOT_TOKEN": "",
               "DATA_DIR": str(tmp_path / "data"), "CONFIG_DIR": str(tmp_path / "config"),
               "LOG_FORMAT": "json"}
        log = (tmp_path / "poller.log").open("ab")
        first = subprocess.Popen(POLLER, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            # Generous: a cold interpreter on a busy machine takes a while to reach its first poll.
            assert await wait_until(lambda: feeds.requests > 0, timeout=90), "never polled"
        finally:
            first.kill()  # mid-fetch: the request is still stalled on the server
            first.wait(10)
        feeds.stall.clear()
        second = subprocess.Popen(POLLER, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            queued = await wait_until(lambda: _queued(redis), timeout=90)
            lease_ms = int(await redis.pttl(f"{LEASE_PREFIX}slow"))
        finally:
            second.terminate()
            await asyncio.to_thread(second.wait, 30)
            log.close()
    assert queued, f"not queued within 90 s of the restart; dead poller's lease: {lease_ms} ms left"


async def _queued(redis: Redis) -> bool:
    return int(await redis.xlen("articles")) >= 1
