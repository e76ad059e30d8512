"""The notifier SIGKILLed in the middle of a fan-out and restarted: nobody misses the alert."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from bot.store.subscriptions import SubscriptionStore
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_alert, publish_alert

REPO = Path(__file__).resolve().parents[3]


def _start(redis_url: str, api_url: str, tmp: Path, log_name: str) -> subprocess.Popen[bytes]:
    log = (tmp / log_name).open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bot.child_notifier", redis_url, api_url, str(tmp)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )


async def test_sigkill_mid_fanout_then_restart_loses_nothing(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    chats = list(range(1, 121))
    store = SubscriptionStore(redis)
    for chat in chats:
        await store.subscribe(chat, ["gaza"])
    # Slow answers widen the window between a send and its marker, where a kill can land.
    emulator.latency_s = 0.03
    first = _start(redis_server.url, emulator.url, tmp_path, "first.log")
    try:
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: emulator.total_sent >= 40, timeout=30)
        first.kill()
        first.wait(10)
        at_kill = emulator.total_sent
        assert at_kill < len(chats), "the kill must land mid fan-out"
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    second = _start(redis_server.url, emulator.url, tmp_path, "second.log")
    try:
        got_all = await wait_until(
            lambda: all(emulator.messages.get(c) for c in chats), timeout=40
        )
        await quiet(1.0)
    finally:
        second.terminate()
        assert second.wait(20) == 0
    assert got_all, f"missing: {[c for c in chats if not emulator.messages.get(c)]}"
    counts = {c: len(emulator.messages[c]) for c in chats}
    dupes = sum(1 for n in counts.values() if n == 2)
    print(f"delivered before kill: {at_kill}; duplicates after restart: {dupes}")
    assert max(counts.values()) <= 2
    # Only requests in flight at the kill can repeat: far fewer than the 30 send slots.
    assert dupes <= 30
    assert emulator.counters.rate_limited == 0
