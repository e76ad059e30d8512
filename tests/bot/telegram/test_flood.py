"""The shared flood limiter keeps a mixed burst within every limit the emulator enforces."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bot.notifier.delivery import Deliverer
from bot.notifier.metrics import NotifierMetrics
from bot.notifier.retry_queue import RetryPolicy, RetryQueue
from bot.store.messages import MessageLedger
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import make_bot
from bot.telegram.flood import FloodLimiter, Limits
from core.keys import DELIVERIES
from core.models import DeliveryJob, decode
from core.redis_conn import RedisProcess
from core.streams import read_range
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import TOKEN, make_alert, make_settings


async def test_burst_to_groups_and_private_chats_gets_no_429(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    # Scaled-down limits on both sides keep the test short: 8/s overall, 3 per 2 s per group.
    limits = Limits(overall_per_s=8, group_per_min=3, group_period_s=2.0)
    async with BotAPIEmulator(
        TOKEN, overall_per_s=8, group_per_min=3, group_period_s=2.0
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


async def test_spent_group_budget_defers_the_job_instead_of_holding_a_sender(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    # Scaled down: 2 messages per 3 s per group on both sides.
    limits = Limits(group_per_min=2, group_period_s=3.0)
    subs, stories = SubscriptionStore(redis), StoryStore(redis)
    await subs.subscribe(-100, ["gaza"], chat_type="group")
    alerts = [make_alert(n, story=f"s{n}") for n in range(4)]
    for alert in alerts:
        await stories.add(alert)
    jobs = [DeliveryJob(alert_id=a.id, story_id=f"s{n}", chat_id=-100)
            for n, a in enumerate(alerts)]
    queue = RetryQueue(redis, DELIVERIES)
    async with BotAPIEmulator(TOKEN, group_per_min=2, group_period_s=3.0) as emu:
        bot = make_bot(make_settings(redis_server.url, tmp_path, emu.url))
        deliverer = Deliverer(
            bot=bot, limiter=FloodLimiter(redis, "proc-a", limits), subs=subs, stories=stories,
            ledger=MessageLedger(redis), metrics=NotifierMetrics(CollectorRegistry()),
            region_names={}, token=TOKEN, retries=queue, policy=RetryPolicy(defer_after_s=0.5),
        )
        async with bot:
            outcomes = [await deliverer.deliver(job) for job in jobs]
            assert outcomes == ["sent", "sent", "deferred", "deferred"]
            assert await queue.waiting() == 2
            # Parked jobs come back on the stream when due and are delivered then.
            async def redeliver_due() -> bool:
                await queue.move_due()
                for _, fields in await read_range(redis, DELIVERIES):
                    await deliverer.deliver(decode(fields, DeliveryJob))
                await redis.delete(DELIVERIES)
                return emu.total_sent >= 4

            assert await wait_until(redeliver_due, timeout=15)
    assert emu.total_sent == 4 and len(emu.messages[-100]) == 4
    assert emu.counters.rate_limited == 0
