"""The failover scenario shared by tests/e2e/test_failover.py and bench/failover.py.

A primary, a replica and three sentinels run on 127.0.0.1 (testkit/sentinels.py); the
service runs as four ``ceasefire-watch run`` processes (poller, classifier, notifier,
bot+health) given only ``REDIS_SENTINELS``. Synthetic reports keep arriving on local feeds
while the primary is SIGKILLed; the run then waits for everything to drain and counts, on the
promoted primary and the Bot API emulator, what was lost or repeated (testkit/failover_tally.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from bot.store.subscriptions import SubscriptionStore
from core.keys import ALERTS, ARTICLES, DELIVERIES
from core.redis_conn import free_port
from testkit.botapi.emulator import BotAPIEmulator
from testkit.failover_tally import Figures, Load, count, first_entry_after
from testkit.feedgen import Generator, write_config
from testkit.feeds import FeedServer
from testkit.pipeline import CLI, REPO, drained, heartbeats, readyz, stop_processes
from testkit.sentinels import SentinelCluster
from testkit.waiting import quiet, wait_until

PROCESSES = ("poller", "classifier", "truces", "notifier", "bot,health")
ROLES = ("poller", "classifier", "truces", "notifier", "bot", "health")
TOKEN = "555111333:AAfailoverTOKENsecretXYZabcdefghijklm"
FAST = {
    "poller": {"min_interval_s": 1, "default_interval_s": 1, "max_interval_s": 2,
               "max_rate": 1000, "per_host": 32},
    # Entries are claimed from a consumer only after 10 s, longer than a failover here: a
    # send whose sent marker still waits for the new primary is not sent again meanwhile.
    "streams": {"block_ms": 100, "claim_idle_ms": 10_000, "claim_interval_s": 0.5,
                "retry_backoff_s": 0.1},
    "heartbeat_ttl_s": 2,
    "log_level": "INFO",
}


class Fleet:
    """The service's processes, one log each."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        """Start every process."""
        for roles in PROCESSES:
            with (self.logs / f"{roles.replace(',', '+')}.log").open("ab") as log:
                self.procs[roles] = subprocess.Popen(
                    [*CLI, roles], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
                )

    def exited(self) -> dict[str, int]:
        """Processes that exited, with their codes."""
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    async def stop(self) -> dict[str, int | None]:
        """SIGTERM every process and wait without blocking the loop (servers run on it)."""
        return await stop_processes(self.procs)

    def grep(self, text: str) -> int:
        """Log lines containing ``text``, over every process."""
        return sum(
            path.read_text(errors="replace").count(text) for path in self.logs.glob("*.log")
        )


def client_on(port: int) -> Redis:
    """A plain client on one data node (the test reads the promoted primary directly)."""
    return Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=10)


@dataclass
class Report:
    """What one failover run saw."""

    published: int
    promoted_s: float
    # Role -> seconds from the kill until its heartbeat was seen on the new primary.
    follow: dict[str, float]
    # Stream -> seconds from the kill until its first entry on the new primary.
    first_writes: dict[str, float | None]
    figures: Figures
    exited: dict[str, int]
    codes: dict[str, int | None]
    bot_ok: bool
    ready_again: bool
    done: bool
    # Processes that found no replica to WAIT for after the failover (waiting paused).
    paused: int

    def lines(self) -> list[str]:
        """The printable figures."""
        return [
            f"failover: sentinels promoted the replica {self.promoted_s:.1f}s after SIGKILL; "
            "each role's heartbeat seen on the new primary at: " + ", ".join(
                f"{r} +{s:.1f}s" for r, s in sorted(self.follow.items(), key=lambda p: p[1])),
            "first entry on the new primary: " + ", ".join(
                f"{s} +{t:.1f}s" if t is not None else f"{s} none"
                for s, t in self.first_writes.items()),
            f"{self.published} reports published; {self.figures.line()}; "
            f"processes that found no replica to WAIT for afterwards: {self.paused}",
        ]


async def run_failover(
    cluster: SentinelCluster, tmp_path: Path, *, wait_replicas: int = 1, seed: int = 11,
    per_s: int = 20, stall_s: float = 0.0,
) -> Report:
    """Run the pipeline under load, SIGKILL the primary, drain, count.

    ``stall_s`` > 0 stops the replica (SIGSTOP) that long before the kill: a slow replica,
    so WAITs run into their timeout. (On one machine the writes of that window still reach
    it from the socket buffers when it resumes; dropping them would need the network cut.)
    """
    zones, feeds_n = 10, 20
    load = Load(Generator(feeds_n, zones, random.Random(seed)))
    old_primary = client_on(cluster.primary.port)
    store = SubscriptionStore(old_primary)
    for z in range(zones):
        await store.subscribe(1000 + z, [f"zone-{z}"])
        await store.update(1000 + z, threshold=0.0)
    await old_primary.aclose()
    health_port = free_port()
    async with FeedServer(max_items=200) as feeds, BotAPIEmulator(TOKEN) as emulator:
        feed_cfg = []
        for f in range(feeds_n):
            feeds.add_feed(f"bench-{f}")
            feed_cfg.append({"id": f"bench-{f}", "url": feeds.feed_url(f"bench-{f}"),
                             "name": f"Feed {f}", "language": "en",
                             "region_hints": [f"zone-{f % zones}"]})
        write_config(tmp_path / "config", feed_cfg, FAST)
        env = {
            **os.environ, "REDIS_SENTINELS": cluster.addresses, "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.url, "DATA_DIR": str(tmp_path / "data"),
            "CONFIG_DIR": str(tmp_path / "config"), "LOG_FORMAT": "json",
            "HEALTH_PORT": str(health_port), "REDIS_WAIT_REPLICAS": str(wait_replicas),
        }
        env.pop("REDIS_URL", None)
        fleet = Fleet(env, tmp_path)
        fleet.start()
        # Reads before the kill go to the replica; after it, to whichever node survived.
        new_primary = client_on(cluster.replica.port)
        try:
            # Under load before the kill: every role up, alerts already flowing.
            load.produce(feeds, 60)
            if not await wait_until(lambda: _all_beating(new_primary), timeout=90):
                raise RuntimeError(f"service did not start; logs in {tmp_path}")
            if not await wait_until(lambda: readyz_ok(health_port), timeout=60):
                raise RuntimeError(f"service never ready; logs in {tmp_path}")
            # The primary dies while reports keep arriving and the first ones are in flight:
            # once the poller has queued a second's worth of them (the preload is 60).
            producer = asyncio.create_task(_produce(feeds, load, seconds=10.0, per_s=per_s))
            await wait_until(lambda: _queued(new_primary, 60 + per_s), timeout=30)
            if stall_s:
                cluster.replica.signal(signal.SIGSTOP)
                await asyncio.sleep(stall_s)  # the stall is the scenario: a slow replica
            survivor = await cluster.kill_primary()
            killed = time.time()
            cluster.replica.signal(signal.SIGCONT)
            await new_primary.aclose()
            new_primary = client_on(survivor.port)
            await cluster.wait_failover(survivor, timeout_s=60)
            promoted_s = time.time() - killed
            follow: dict[str, float] = {}

            async def all_followed() -> bool:
                seen = time.time() - killed
                for role, beat in (await heartbeats(new_primary)).items():
                    if beat > killed and role not in follow:
                        follow[role] = seen
                return set(follow) >= set(ROLES)

            await wait_until(all_followed, timeout=60)
            await producer
            # The bot and the health role on the new primary: a command is answered and
            # applied, and /readyz says ready again.
            emulator.inject_message(4242, "/subscribe ukraine", user_id=4242)
            bot_ok = await wait_until(lambda: _subscribed(new_primary, 4242), timeout=60)
            ready_again = await wait_until(lambda: readyz_ok(health_port), timeout=60)

            async def finished() -> bool:
                if not await drained(new_primary, len(load.links)):
                    return False
                return (await count(new_primary, load, emulator)).messages_lost == 0

            # Articles whose publish no replica confirmed come back once their 30 s claim
            # expires (workers/poller/dedupe.py), so allow well over that.
            done = await wait_until(finished, timeout=150)
            # Nothing must happen now: a late duplicate would show up within this quiet time.
            await quiet(1.5)
            figures = await count(new_primary, load, emulator)
            first_writes: dict[str, float | None] = {}
            for stream in (ARTICLES, ALERTS, DELIVERIES):
                at = await first_entry_after(new_primary, stream, int(killed * 1000))
                first_writes[stream] = None if at is None else at - killed
            exited = fleet.exited()
            paused = fleet.grep("replica(s) acknowledged within")
        finally:
            codes = await fleet.stop()
            await new_primary.aclose()
    return Report(len(load.links), promoted_s, follow, first_writes, figures, exited, codes,
                  bot_ok, ready_again, done, paused)


async def _produce(feeds: FeedServer, load: Load, *, seconds: float, per_s: int) -> None:
    """Keep reports coming through the failover, ``per_s`` a second in 10 steps a second."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        load.produce(feeds, max(1, per_s // 10))
        await asyncio.sleep(0.1)  # the load's pace, not a wait


async def _all_beating(redis: Redis) -> bool:
    """Every role has a heartbeat and the classifier has written alerts."""
    return set(await heartbeats(redis)) >= set(ROLES) and int(await redis.xlen(ALERTS)) > 0


async def _queued(redis: Redis, articles: int) -> bool:
    """At least ``articles`` are on the articles stream (read on the replica before the kill)."""
    return int(await redis.xlen(ARTICLES)) >= articles


async def readyz_ok(port: int) -> bool:
    """True when /readyz answers 200."""
    return (await readyz(port))[0] == 200


async def _subscribed(redis: Redis, chat_id: int) -> bool:
    sub = await SubscriptionStore(redis).get(chat_id)
    return sub is not None and "ukraine" in sub.regions
