"""The retry policy of bot/notifier/delivery.py: one attempt per handler call, one rule per kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bot.notifier.delivery import Deliverer
from bot.notifier.metrics import NotifierMetrics
from bot.notifier.retry_queue import RetryPolicy, RetryQueue
from bot.store.messages import MessageLedger
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import make_bot
from bot.telegram.flood import PAUSE_KEY, FloodLimiter
from core import keys
from core.models import DeliveryJob
from core.redis_conn import RedisProcess
from core.streams import Delivery, read_range
from testkit.botapi.emulator import BotAPIEmulator
from tests.bot.helpers import make_alert, make_settings

CHAT = 1


@dataclass
class Rig:
    """A Deliverer against the emulator, and what it parks and records."""

    deliverer: Deliverer
    queue: RetryQueue
    ledger: MessageLedger
    emulator: BotAPIEmulator

    def calls(self) -> int:
        """SendMessage requests to CHAT so far."""
        return sum(1 for c in self.emulator.log if c.method == "sendMessage" and c.chat_id == CHAT)

    async def parked(self) -> list[DeliveryJob]:
        """The jobs waiting in the retry queue."""
        members = cast(list[str], await self.queue.redis.zrange(self.queue.key, 0, -1))
        return [DeliveryJob.model_validate_json(m) for m in members]


@pytest.fixture
async def rig(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> AsyncIterator[Rig]:
    """One subscribed chat, one stored alert, and a Deliverer with a two-attempt budget."""
    subs, stories, ledger = SubscriptionStore(redis), StoryStore(redis), MessageLedger(redis)
    await subs.subscribe(CHAT, ["gaza"])
    await stories.add(make_alert(1, story="s"))
    queue = RetryQueue(redis, keys.DELIVERIES)
    bot = make_bot(make_settings(redis_server.url, tmp_path, emulator.url))
    deliverer = Deliverer(
        bot=bot, limiter=FloodLimiter(redis, "policy-test"), subs=subs, stories=stories,
        ledger=ledger, metrics=NotifierMetrics(CollectorRegistry()), region_names={},
        token="", retries=queue, consumer="policy-test-0", policy=RetryPolicy(attempts=2),
    )
    async with bot:
        yield Rig(deliverer, queue, ledger, emulator)


def _job(attempt: int = 0) -> DeliveryJob:
    return DeliveryJob(alert_id="al1", story_id="s", chat_id=CHAT, attempt=attempt)


async def test_a_transient_failure_is_one_attempt_then_parked_with_one_more_used(
    rig: Rig,
) -> None:
    rig.emulator.inject_fault("5xx", chat_id=CHAT, count=5)
    assert await rig.deliverer.deliver(_job()) == "retry_later"
    assert rig.calls() == 1  # no quick retry inside the handler call
    assert [j.attempt for j in await rig.parked()] == [1]
    assert not await rig.ledger.was_sent("al1", CHAT)


async def test_a_429_pauses_every_sender_and_parks_without_using_an_attempt(
    rig: Rig, redis: Redis
) -> None:
    rig.emulator.inject_fault("429", chat_id=CHAT, retry_after=3)
    assert await rig.deliverer.deliver(_job()) == "retry_later"
    assert rig.calls() == 1
    assert [j.attempt for j in await rig.parked()] == [0]
    assert await redis.exists(PAUSE_KEY)


async def test_the_last_attempt_is_recorded_as_a_dead_letter(rig: Rig, redis: Redis) -> None:
    rig.emulator.inject_fault("5xx", chat_id=CHAT)
    delivery = Delivery("1-0", keys.DELIVERIES, 1)
    assert await rig.deliverer.deliver(_job(attempt=1), delivery) == "failed"
    assert await rig.parked() == []
    [(_, record)] = await read_range(redis, keys.dead_letter(keys.DELIVERIES))
    assert record["error"].startswith("gave up after 2 attempts: NetworkError")
    assert (record["deliveries"], record["source_id"], record["consumer"]) == (
        "2", "1-0", "policy-test-0")
    assert DeliveryJob.model_validate_json(record["data"]) == _job(attempt=1)
    # The pair is settled: a redelivery of the same job sends nothing.
    assert await rig.deliverer.deliver(_job()) == "duplicate"
    assert rig.calls() == 1
