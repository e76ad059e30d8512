"""The shared flood limiter keeps a mixed burst within every limit the emulator enforces."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from bot.ratelimit import FloodLimiter, Limits
from bot.telegram_api import make_bot
from core.redis_conn import RedisProcess
from tests.bot.helpers import TOKEN, make_settings
from tests.support.botapi_emulator import BotAPIEmulator


async def test_burst_to_groups_and_private_chats_gets_no_429(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    # Scaled-down limits on both sides keep the test short: 5/s overall, 3 per 4 s per group.
    limits = Limits(overall_per_s=5, group_per_min=3, group_period_s=4.0)
    async with BotAPIEmulator(
        TOKEN, overall_per_s=5, group_per_min=3, group_period_s=4.0
    ) as emu:
        bot = make_bot(make_settings(redis_server.url, tmp_path, emu.url))
        # Two limiter instances: as two processes (notifier and bot) sharing one token.
        limiters = [FloodLimiter(redis, "proc-a", limits), FloodLimiter(redis, "proc-b", limits)]
        jobs = [(-100 - g, n) for g in range(2) for n in range(5)] + [(c, 0) for c in range(1, 9)]

        async def send(index: int, chat: int, n: int) -> None:
            async with limiters[index % 2].slot(chat):
                await bot.send_message(chat, f"message {n}")

        async with bot:
            await asyncio.gather(*(send(i, c, n) for i, (c, n) in enumerate(jobs)))
    assert emu.counters.rate_limited == 0
    assert emu.total_sent == len(jobs)
    assert sorted(emu.texts(-100)) == [f"message {n}" for n in range(5)]
