"""Chaos: the pipeline as separate processes, SIGKILLed at random, Redis killed twice.

Poller, classifier and notifier run as one process each; 20 random kills (each followed by a
restart) and two Redis crashes land while dev.jsonl items keep arriving. Nothing may be lost
or stuck, and repeats stay within the documented crash window.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.keys import DELIVERIES, dead_letter
from core.redis_conn import RedisProcess
from core.streams import read_range
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feedgen import write_config
from testkit.feeds import FeedServer
from testkit.pipeline import CLI, REPO, drained, stop_processes
from testkit.waiting import quiet, wait_until
from tests.e2e.pipeline_support import (
    FOLLOWERS,
    TOKEN,
    alerts_of,
    dead_letters,
    delivered_stories,
    expected_stories,
    pending_counts,
    publish_dev_feeds,
    subscribe,
)

ROLES = ("poller", "classifier", "truces", "notifier")
KILLS = 20
REDIS_RESTARTS = 2
# Short takeover times so entries of a killed consumer come back within the test; a restarted
# process gets its old consumer name (and send slots) back once its 2 s lock has expired.
CHAOS = {
    "poller": {"min_interval_s": 1, "default_interval_s": 1, "max_interval_s": 2, "per_host": 16},
    "streams": {"block_ms": 100, "claim_idle_ms": 1500, "claim_interval_s": 0.5,
                "retry_backoff_s": 0.1},
    "heartbeat_ttl_s": 2,
    "log_level": "INFO",
}


class Fleet:
    """One child process per role, restartable; every start appends to the role's log."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        # Where each role's log stood when its current process started.
        self.log_offset: dict[str, int] = {}

    def start(self, role: str) -> None:
        """Start ``run --roles ROLE``."""
        with (self.logs / f"{role}.log").open("ab") as log:
            self.log_offset[role] = log.tell()
            self.procs[role] = subprocess.Popen(
                [*CLI, role], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def all_up(self) -> bool:
        """True once every current process has started its role (it logs so)."""
        for role, offset in self.log_offset.items():
            with (self.logs / f"{role}.log").open("rb") as log:
                log.seek(offset)
                if f"role {role} started as ".encode() not in log.read():
                    return False
        return True

    def kill(self, role: str) -> None:
        """SIGKILL the role's process and reap it."""
        proc = self.procs[role]
        proc.kill()
        proc.wait(10)

    async def stop_all(self) -> dict[str, int | None]:
        """SIGTERM every child; return exit codes (None if it had to be killed)."""
        return await stop_processes(self.procs)


async def gave_up_after_restarts(redis: Redis) -> int:
    """Delivery jobs dead-lettered only because consumers died while holding them."""
    rows = await read_range(redis, dead_letter(DELIVERIES))
    return sum(1 for _, f in rows if f.get("error", "").startswith("gave up: consumer died"))


def retrying(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    """Wrap a Redis check so an outage (Redis being restarted) reads as 'not yet'."""

    async def wrapped() -> bool:
        try:
            return await check()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return False

    return wrapped


@pytest.mark.timeout(900)  # minutes of kills, then drains, on a busy machine
async def test_random_kills_and_redis_restarts_lose_nothing(
    redis: Redis, redis_server: RedisProcess, shared_dir: Path, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or time.time())
    rng = random.Random(seed)
    print(f"chaos seed {seed} (set CHAOS_SEED to replay)")
    await subscribe(redis)
    async with FeedServer() as feeds, BotAPIEmulator(TOKEN) as emulator:
        # The items go up in batches during the run, so every kill lands on work in progress.
        staging = FeedServer()
        feed_cfg, published = publish_dev_feeds(staging, shared_dir / "eval", every=3, copies=6)
        batches = [(fid, item) for fid, feed in staging.feeds.items() for item in feed.items]
        rng.shuffle(batches)
        for fid in staging.feeds:
            feeds.add_feed(fid)
        feed_cfg = [{**f, "url": feeds.feed_url(f["id"])} for f in feed_cfg]
        write_config(tmp_path / "config", feed_cfg, CHAOS)
        env = {
            **os.environ, "REDIS_URL": redis_server.url, "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.url, "DATA_DIR": str(tmp_path / "data"),
            "CONFIG_DIR": str(tmp_path / "config"), "LOG_FORMAT": "json",
        }
        fleet = Fleet(env, tmp_path)
        kills = dict.fromkeys(ROLES, 0)
        releaser: asyncio.Task[None] | None = None
        try:
            for role in ROLES:
                fleet.start(role)

            async def release() -> None:
                per_tick = max(1, len(batches) // 40)
                for i in range(0, len(batches), per_tick):
                    for fid, item in batches[i : i + per_tick]:
                        feeds.add(fid, item)
                    await asyncio.sleep(1.0)  # the load's pace: items keep arriving all along

            releaser = asyncio.create_task(release())
            redis_at = set(rng.sample(range(3, KILLS - 2), REDIS_RESTARTS))
            for n in range(KILLS):
                await asyncio.sleep(rng.uniform(1.5, 3.0))  # the chaos schedule under test
                role = rng.choice(ROLES)
                fleet.kill(role)
                kills[role] += 1
                if n in redis_at:
                    redis_server.kill()
                    await asyncio.sleep(rng.uniform(0.5, 1.5))  # Redis stays down this long
                    redis_server.restart()
                fleet.start(role)
            await releaser
            print(f"kills per role {kills}, redis restarts {REDIS_RESTARTS}")
            complete_feed = await wait_until(
                retrying(lambda: drained(redis, published)), timeout=180
            )
            # Whatever was queued must get through even if the poller is still behind.
            done = await wait_until(retrying(lambda: drained(redis, 0)), timeout=120)
            alerts = await alerts_of(redis)
            expected = expected_stories(alerts)
            want = sum(len(s) for s in expected.values())

            def delivered_all() -> bool:
                got = delivered_stories(emulator, alerts)
                return all(expected[f.chat_id] <= set(got[f.chat_id]) for f in FOLLOWERS)

            complete = await wait_until(delivered_all, timeout=180)
            got_now = delivered_stories(emulator, alerts)
            missing = {c: len(expected[c] - set(got_now[c])) for c in expected}
            # Nothing must happen now: a stray repeat would show up within this quiet time.
            await quiet(1.5)
            done = done and await retrying(lambda: drained(redis, 0))()
            pending = await pending_counts(redis)
            queued = int(await redis.xlen("articles"))
            given_up = await gave_up_after_restarts(redis)
        finally:
            # SIGTERM only processes that are up: one restarted a moment ago may still be in
            # its interpreter's start-up on a busy machine, before any handler can exist.
            await wait_until(fleet.all_up, timeout=60)
            codes = await fleet.stop_all()
            if releaser is not None:
                releaser.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await releaser
    assert done, f"not drained: {queued} of {published} queued, pending {pending}"
    # Jobs that only waited for a send slot through restarts must not use up their retry
    # budget (core/consumer.py counts handler starts; see test_redelivery_budget.py).
    assert not given_up, f"{given_up} delivery jobs dead-lettered after restarts"
    assert complete, f"some expected alerts were never delivered: {missing}"
    assert pending == dict.fromkeys(pending, 0), pending
    assert await dead_letters(redis) == {}
    assert codes == dict.fromkeys(ROLES, 0), codes
    delivered = delivered_stories(emulator, alerts)
    # A kill (or a Redis outage) between a send and its sent-marker repeats that one message.
    window = kills["notifier"] + REDIS_RESTARTS
    repeats = {}
    for f in FOLLOWERS:
        got = delivered[f.chat_id]
        assert set(got) == expected[f.chat_id], f"chat {f.chat_id}: {got} vs {expected[f.chat_id]}"
        repeats[f.chat_id] = sum(n - 1 for n in got.values())
        assert repeats[f.chat_id] <= window, f"chat {f.chat_id}: {got}"
    print(f"{queued} of {published} items queued, {want} (chat, story) deliveries expected; "
          f"repeats {repeats}")
    assert want >= 10
    if not complete_feed:
        # Known poller window: a poller killed between claiming article ids and confirming
        # them leaves 30 s claims (workers/poller/dedupe.py), so those items can arrive after
        # the test's window (late, not lost).
        pytest.xfail(f"poller crash window: {published - queued} of {published} items late")
