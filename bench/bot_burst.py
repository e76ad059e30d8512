"""Bot command burst and flood benchmark against the Bot API emulator.

Burst: N distinct users each send ``/subscribe ukraine`` at once; prints how many were answered,
answered exactly once, answered with an apology, and applied in Redis. Flood: one chat sends
500 commands, then 20 other chats send one each; prints the other chats' reply latency
(p50/p99) and how many of the flooder's replies went out before the other chats' last one.

    .venv/bin/python -m bench.bot_burst --users 300 1000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.updates import SLOW_DOWN
from bot.store.subscriptions import SubscriptionStore
from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.redis_conn import RedisProcess, make_client
from core.settings import Settings
from core.tuning import StreamSettings
from testkit.botapi.emulator import BotAPIEmulator

TOKEN = "424242:BENCHtokenABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
SORRY = "Sorry, that did not work"


@asynccontextmanager
async def bot_running(redis_url: str, tmp: Path) -> AsyncIterator[tuple[BotAPIEmulator, Redis]]:
    """Yield an emulator and a Redis client with the bot role serving them; stop it on exit."""
    async with BotAPIEmulator(TOKEN) as emu:
        settings = Settings(
            redis_url=redis_url, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=emu.url,
            data_dir=tmp, config_dir=tmp / "config", streams=StreamSettings(block_ms=100),
        )
        redis = make_client(redis_url)
        await redis.flushdb()
        registry = CollectorRegistry()
        ctx = RoleContext("bot", settings, redis, asyncio.Event(), "bench-bot-0",
                          registry, CoreMetrics(registry))
        task = asyncio.create_task(bot_role.run(ctx))
        try:
            while not emu.commands and not task.done():
                await asyncio.sleep(0.05)
            yield emu, redis
        finally:
            ctx.stop.set()
            await asyncio.wait_for(task, 120)
            await redis.aclose()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else 0.0


def _first_reply_at(emu: BotAPIEmulator) -> dict[int, float]:
    firsts: dict[int, float] = {}
    for call in emu.log:
        if call.method == "sendMessage" and call.status == 200 and call.chat_id is not None:
            firsts.setdefault(call.chat_id, call.at)
    return firsts


async def burst(redis_url: str, tmp: Path, users: int, timeout_s: float) -> bool:
    """Run one burst of ``users`` /subscribe commands and print its figures."""
    chats = [700_000 + n for n in range(users)]
    async with bot_running(redis_url, tmp) as (emu, redis):
        started = time.monotonic()
        for chat in chats:
            emu.inject_message(chat, "/subscribe ukraine", user_id=chat)
        injected_s = time.monotonic() - started
        deadline = started + timeout_s
        while time.monotonic() < deadline and not all(c in emu.messages for c in chats):
            await asyncio.sleep(0.05)
        applied = await SubscriptionStore(redis).candidates(["ukraine"])
    answered = sum(1 for c in chats if c in emu.messages)
    once = sum(1 for c in chats if len(emu.messages.get(c, [])) == 1)
    sorry = sum(1 for c in chats if any(SORRY in t for t in emu.texts(c)))
    firsts = _first_reply_at(emu)
    latencies = [firsts[c] - started for c in chats if c in firsts]
    print(f"burst of {users} /subscribe (injected in {injected_s:.3f}s)")
    print(f"  answered           {answered}/{users} (exactly once: {once}, apologies: {sorry})")
    print(f"  applied in Redis   {len(applied & set(chats))}/{users}")
    print(f"  429 answers        {emu.counters.rate_limited}")
    print(f"  reply p50 / p99    {_pct(latencies, 0.5):.2f}s / {_pct(latencies, 0.99):.2f}s "
          f"(replies leave at Telegram's 30/s)")
    return answered == once == users and not sorry and len(applied & set(chats)) == users


async def flood(redis_url: str, tmp: Path, commands: int, others: int) -> bool:
    """One chat floods ``commands`` commands, then ``others`` chats send one; print figures."""
    flooder, other_chats = 9_000, [9_100 + n for n in range(others)]
    async with bot_running(redis_url, tmp) as (emu, _redis):
        for n in range(1, commands + 1):
            emu.inject_message(flooder, f"/mute {n}m", user_id=flooder)
        sent_at = time.monotonic()
        for chat in other_chats:
            emu.inject_message(chat, "/subscribe ukraine", user_id=chat)
        deadline = sent_at + 120
        while time.monotonic() < deadline and not all(c in emu.messages for c in other_chats):
            await asyncio.sleep(0.02)
    # The role has stopped, after handling every command it had accepted.
    last_other = max((emu.messages[c][0].message_id for c in other_chats
                      if c in emu.messages), default=0)
    before = sum(1 for s in emu.messages.get(flooder, []) if s.message_id < last_other)
    firsts = _first_reply_at(emu)
    latencies = [firsts[c] - sent_at for c in other_chats if c in firsts]
    texts = emu.texts(flooder)
    answered = sum(1 for c in other_chats if c in emu.messages)
    print(f"flood: one chat sends {commands} commands, then {others} other chats send one")
    print(f"  other chats        {answered}/{others} answered; reply p50 / p99 "
          f"{statistics.median(latencies) if latencies else 0:.2f}s / "
          f"{_pct(latencies, 0.99):.2f}s after they wrote")
    print(f"  flooder replies    {before} sent before the other chats' last reply")
    print(f"  flooder            {len(texts) - texts.count(SLOW_DOWN)} commands answered, "
          f"{texts.count(SLOW_DOWN)} slow-down notice(s), the rest dropped")
    print(f"  429 answers        {emu.counters.rate_limited}")
    return answered == others and texts.count(SLOW_DOWN) == 1


async def bench(users: list[int], commands: int, others: int) -> int:
    """Run every scenario on a private redis-server; return 0 when all held."""
    ok = True
    with (
        tempfile.TemporaryDirectory() as tmp,
        RedisProcess(Path(tmp) / "redis", appendonly=False) as server,
    ):
        for n in users:
            ok &= await burst(server.url, Path(tmp), n, timeout_s=60 + n / 10)
        ok &= await flood(server.url, Path(tmp), commands, others)
    print("result: " + ("all answered and applied" if ok else "FAILED"))
    return 0 if ok else 1


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--flood", type=int, default=500, help="commands the flooding chat sends")
    parser.add_argument("--others", type=int, default=20, help="other chats sending one command")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(bench(args.users, args.flood, args.others)))


if __name__ == "__main__":
    main()
