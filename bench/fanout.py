"""Fan-out benchmark: N subscribers of one region, one alert, delivered through the emulator.

Prints the delivery rate (target >= 27 messages/s, i.e. 90% of Telegram's 30/s), the number
of 429 answers (target 0), delivery latency percentiles and peak RSS.

    /work/venv/bin/python -m bench.fanout --subscribers 10000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from bot.notifier import role as notifier_role
from bot.store.subscriptions import SubscriptionStore
from core.keys import ALERTS
from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.models import Alert, Article
from core.redis_conn import RedisProcess, make_client
from core.settings import Settings
from core.streams import publish
from core.tuning import StreamSettings
from testkit.botapi.emulator import BotAPIEmulator

TOKEN = "424242:BENCHtokenABCDEFGHIJKLMNOPQRSTUVWXYZ0123"


def _alert() -> Alert:
    now = datetime.now(UTC)
    article = Article(
        id="bench-a1", feed_id="bench", source="Bench Wire", url="https://example.org/bench",
        title="Shelling reported despite the ceasefire", published=now, fetched=now,
    )
    return Alert(
        id="bench-al1", article=article, label="violation", score=0.93,
        evidence="Artillery fire continued overnight despite the truce.", regions=("gaza",),
        story_id="bench-story",
    )


async def _subscribe(redis_url: str, count: int) -> None:
    redis = make_client(redis_url)
    store = SubscriptionStore(redis)
    try:
        # Bounded concurrency keeps the set-up quick without flooding the connection pool.
        sem = asyncio.Semaphore(50)

        async def one(chat: int) -> None:
            async with sem:
                await store.subscribe(chat, ["gaza"])

        await asyncio.gather(*(one(chat) for chat in range(1, count + 1)))
    finally:
        await redis.aclose()


async def bench(subscribers: int, latency_s: float, timeout_s: float) -> int:
    """Run one fan-out and print its figures; return 0 when every target was met."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        RedisProcess(Path(tmp) / "redis", appendonly=False) as server,
    ):
        async with BotAPIEmulator(TOKEN, latency_s=latency_s) as emu:
            return await _run(server.url, emu, Path(tmp), subscribers, timeout_s)


async def _run(
    redis_url: str, emu: BotAPIEmulator, tmp: Path, subscribers: int, timeout_s: float
) -> int:
    await _subscribe(redis_url, subscribers)
    settings = Settings(
        redis_url=redis_url, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=emu.url,
        data_dir=tmp, config_dir=tmp / "config", streams=StreamSettings(block_ms=100),
    )
    redis = make_client(redis_url)
    registry = CollectorRegistry()
    ctx = RoleContext("notifier", settings, redis, asyncio.Event(), "bench-notifier-0",
                      registry, CoreMetrics(registry))
    task = asyncio.create_task(notifier_role.run(ctx))
    try:
        started = time.monotonic()
        await publish(redis, ALERTS, _alert())
        deadline = started + timeout_s
        while emu.total_sent < subscribers and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.1)
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, 30)
        await redis.aclose()
    sends = sorted(c.at for c in emu.log if c.method == "sendMessage" and c.status == 200)
    delivered = len(sends)
    per_chat = [len(v) for v in emu.messages.values()]
    span = (sends[-1] - sends[0]) if delivered > 1 else 0.0
    rate = (delivered - 1) / span if span > 0 else 0.0
    latencies = [t - started for t in sends]
    p50 = statistics.median(latencies) if latencies else 0.0
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0
    send_sum = registry.get_sample_value("cw_bot_send_seconds_sum") or 0.0
    send_count = registry.get_sample_value("cw_bot_send_seconds_count") or 1.0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"subscribers          {subscribers}")
    print(f"delivered            {delivered} ({sum(1 for n in per_chat if n > 1)} chats > 1)")
    print(f"rate                 {rate:.2f} messages/s (first to last send)")
    print(f"429 answers          {emu.counters.rate_limited}")
    print(f"time to first/last   {latencies[0] if latencies else 0:.2f}s / "
          f"{latencies[-1] if latencies else 0:.2f}s after publish")
    print(f"delivery p50 / p99   {p50:.2f}s / {p99:.2f}s after publish")
    print(f"send call mean       {1000 * send_sum / send_count:.1f} ms (Bot API round trip)")
    print(f"peak RSS             {rss_mb:.0f} MiB (bench process: emulator + notifier)")
    ok = delivered == subscribers and emu.counters.rate_limited == 0 and rate >= 27.0
    print("targets              " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the emulator waits before answering each call")
    parser.add_argument("--timeout", type=float, default=0.0,
                        help="give up after this many seconds (default: subscribers/25 + 30)")
    args = parser.parse_args()
    timeout = args.timeout or args.subscribers / 25 + 30
    raise SystemExit(asyncio.run(bench(args.subscribers, args.latency, timeout)))


if __name__ == "__main__":
    main()
