"""A poller SIGKILLed in the middle of a poll: the restarted poller must fetch that feed soon."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.redis_conn import RedisProcess
from testkit.waiting import wait_until
from tests.support.feedgen import FeedItem, FeedServer, write_config
from tests.support.feedgen import item_from_row as _row_item

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from core.cli import main; main()", "run", "--roles", "poller"]
FAST = {"poller": {"min_interval_s": 1, "default_interval_s": 1, "max_interval_s": 2},
        "heartbeat_ttl_s": 2}


def _item() -> FeedItem:
    return _row_item({"id": "k1", "title": "Shelling despite the truce", "text": "x"}, "slow")


@pytest.mark.slow
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
        first = subprocess.Popen(CLI, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert await wait_until(lambda: feeds.requests > 0, timeout=30), "never polled"
        finally:
            first.kill()  # mid-fetch: the request is still stalled on the server
            first.wait(10)
        feeds.stall.clear()
        second = subprocess.Popen(CLI, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            queued = await wait_until(lambda: _queued(redis), timeout=20)
            lease_ms = int(await redis.pttl("poller:lease:slow"))
        finally:
            second.terminate()
            await asyncio.to_thread(second.wait, 30)
            log.close()
    assert queued, f"not queued within 20 s of the restart; dead poller's lease: {lease_ms} ms left"


async def _queued(redis: Redis) -> bool:
    return int(await redis.xlen("articles")) >= 1
