"""Restarts get their consumer names back; readiness follows live processes and failing feeds."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys
from core.consumer_names import acquire_consumer_name, heartbeat_field
from core.feed_health import FeedHealthCache
from core.health import check_readiness
from core.health import run as health_role
from core.keys import ARTICLES, HEARTBEATS
from core.lifecycle import LocalRoles, RoleState, run_roles
from core.metrics import CoreMetrics
from core.redis_conn import RedisProcess, free_port
from core.settings import Settings
from core.streams import publish
from testkit.messages import article
from testkit.pipeline import REPO, readyz
from testkit.waiting import wait_until

# Run as a module from the checkout, so it imports testkit as the tests do.
CHILD = [sys.executable, "-m", "tests.core.child_consumer"]
NEVER_MS = str(3_600_000)  # no claim by anyone else within the test


async def test_sigkilled_consumer_restarts_under_its_name_and_finishes_its_own_entries(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    args = [*CHILD, "slow", redis_server.url, str(tmp_path), NEVER_MS]
    first = subprocess.Popen(args, cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        for i in range(5):
            await publish(redis, ARTICLES, article(i))

        async def all_started() -> bool:
            return int(await redis.llen("started")) == 5

        assert await wait_until(all_started, timeout=60)
    finally:
        first.kill()
        await asyncio.to_thread(first.wait, 30)
    await redis.set("go", 1)  # handlers finish from now on (the first process never did)
    [before] = await redis.xinfo_consumers(ARTICLES, "g")
    assert before["pending"] > 0
    second = subprocess.Popen(args, cwd=REPO, stderr=subprocess.PIPE)
    try:

        async def all_finished() -> bool:
            return sorted(await redis.lrange("finished", 0, -1)) == [f"a{i}" for i in range(5)]

        # Nobody can claim within the hour: only the restart reading its own PEL finishes them.
        assert await wait_until(all_finished, timeout=60)
    finally:
        second.terminate()
        code = await asyncio.to_thread(second.wait, 30)
    assert code == 0, second.stderr.read().decode()[-2000:] if second.stderr else ""
    consumers = await redis.xinfo_consumers(ARTICLES, "g")
    assert [c["name"] for c in consumers] == [before["name"]]  # one name across the restart
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0


async def test_a_live_holder_keeps_its_slot(redis: Redis) -> None:
    first, _, _ = await acquire_consumer_name(redis, "classifier", 30)
    second, _, _ = await acquire_consumer_name(redis, "classifier", 30)  # we are alive
    assert (first.rsplit("-", 1)[1], second.rsplit("-", 1)[1]) == ("0", "1")


async def test_a_lease_of_unknown_format_is_waited_out(redis: Redis) -> None:
    # Written by an older version (or another host): not provably dead, so not taken.
    host_key = (await acquire_consumer_name(redis, "x", 30))[1].rsplit(":", 1)[0]
    await redis.set(f"{host_key.replace(':x', ':poller')}:0", "1234:abcd", px=30_000)
    name, _, _ = await acquire_consumer_name(redis, "poller", 30)
    assert name.endswith("-poller-1")


def _metrics() -> CoreMetrics:
    return CoreMetrics(CollectorRegistry())


async def test_stale_heartbeat_of_a_dead_process_does_not_hold_readiness(redis: Redis) -> None:
    now = time.time()
    await redis.hset(HEARTBEATS, mapping={
        "classifier/h-classifier-0": f"{now - 48:.3f}",  # killed 48 s ago
        "classifier/h-classifier-1": f"{now:.3f}",  # the live one carries the role
    })
    result = await check_readiness(redis, 15, _metrics())
    assert result.ready, result.problems
    assert result.stale == ["classifier/h-classifier-0 (48s old)"]


async def test_a_role_with_no_live_process_is_not_ready(redis: Redis) -> None:
    await redis.hset(HEARTBEATS, "notifier/h-notifier-0", f"{time.time() - 48:.3f}")
    result = await check_readiness(redis, 15, _metrics())
    assert not result.ready
    assert "notifier/h-notifier-0 is 48s old" in result.problems[0]


async def test_this_process_judges_its_own_roles(redis: Redis) -> None:
    local = LocalRoles({"poller": RoleState("h-poller-0", up=True),
                        "classifier": RoleState("h-classifier-0", up=False)})
    await redis.hset(HEARTBEATS, mapping={
        heartbeat_field("poller", "h-poller-0"): f"{time.time():.3f}",
        heartbeat_field("classifier", "h-classifier-0"): f"{time.time():.3f}",
    })
    result = await check_readiness(redis, 15, _metrics(), local)
    assert result.problems == ["role classifier of this process is down (restarting)"]
    local.roles["classifier"].up = True
    assert (await check_readiness(redis, 15, _metrics(), local)).ready


async def test_every_feed_failing_is_not_ready(redis: Redis, tmp_path: Path) -> None:
    feeds = [{"id": f"f{i}", "url": f"https://example.org/{i}.xml", "name": f"F{i}"}
             for i in range(3)]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    cache = FeedHealthCache(tmp_path, max_age_s=0)
    assert (await check_readiness(redis, 15, _metrics(), feeds=cache)).ready  # never polled
    for i in range(3):
        await redis.hset(keys.feed_state(f"f{i}"),
                         mapping={"error_streak": "4", "polls_total": "4"})
    result = await check_readiness(redis, 15, _metrics(), feeds=cache)
    assert not result.ready
    assert result.problems == ["3 of 3 feeds failing"]
    await redis.hset(keys.feed_state("f1"), "error_streak", "0")
    result = await check_readiness(redis, 15, _metrics(), feeds=cache)
    assert result.ready
    assert (result.feeds.failing, result.feeds.total) == (2, 3)  # type: ignore[union-attr]


async def test_readyz_reports_feeds_failing_in_its_json(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    feeds = [{"id": f"f{i}", "url": f"https://example.org/{i}.xml", "name": f"F{i}"}
             for i in range(2)]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    for i in range(2):
        await redis.hset(keys.feed_state(f"f{i}"),
                         mapping={"error_streak": "1", "polls_total": "1"})
    port = free_port()
    settings = Settings(redis_url=redis_server.url, data_dir=tmp_path, config_dir=tmp_path,
                        health_port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_roles(settings, [("health", health_role)], stop=stop, install_signals=False)
    )
    try:

        async def answered() -> bool:
            return (await readyz(port))[0] != -1

        assert await wait_until(answered)
        status, body = await readyz(port)
    finally:
        stop.set()
        assert await task == 0
    assert status == 503
    assert body["problems"] == ["2 of 2 feeds failing"]
    assert body["feeds"] == {"failing": 2, "total": 2, "text": "2 of 2 feeds failing"}
