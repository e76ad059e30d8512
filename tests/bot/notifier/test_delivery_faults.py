"""Telegram failures during delivery: blocked, missing, migrated chats, 429 and 5xx bursts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from bot.notifier import role as notifier_role
from bot.notifier.retry_queue import RetryQueue
from bot.store.subscriptions import SubscriptionStore
from core.keys import DELIVERIES, dead_letter, group
from core.models import DeliveryJob, decode
from core.redis_conn import RedisProcess
from core.streams import read_range
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_alert, make_ctx, make_settings, publish_alert, running

FAILED = dead_letter(DELIVERIES)


async def test_blocked_and_missing_chats_are_deactivated(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    for chat in (1, 2, 3):
        await store.subscribe(chat, ["gaza"])
    emulator.blocked.add(1)
    emulator.missing.add(2)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: emulator.total_sent >= 1)
        assert await wait_until(lambda: redis.xlen(FAILED))

        async def both_inactive() -> bool:
            one, two = await store.get(1), await store.get(2)
            return one is not None and two is not None and not one.active and not two.active

        assert await wait_until(both_inactive)
        # The next alert is not even attempted for the deactivated chats.
        await publish_alert(redis, make_alert(2))
        assert await wait_until(lambda: len(emulator.messages.get(3, [])) == 2)
    assert [c for c in emulator.log if c.chat_id in (1, 2)] and all(
        c.status in (400, 403) for c in emulator.log if c.chat_id in (1, 2)
    )
    assert len([c for c in emulator.log if c.chat_id == 1]) == 1
    assert await store.candidates(["gaza"]) == {3}
    one = await store.get(1)
    assert one is not None and "blocked" in one.reason
    # Both refusals are recorded where every failed delivery is: the dead letters.
    records = [fields for _, fields in await read_range(redis, FAILED)]
    assert len(records) == 2
    assert {decode(r, DeliveryJob).chat_id for r in records} == {1, 2}
    for record in records:
        assert set(record) == {"data", "error", "deliveries", "source_stream", "source_id",
                               "group", "consumer", "failed_at"}
        assert record["source_stream"] == DELIVERIES and record["group"] == group(DELIVERIES)
        assert record["consumer"] == "test-notifier-0" and record["source_id"]


async def test_chat_migration_moves_subscription_and_delivers(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    await store.subscribe(-500, ["gaza"], chat_type="group")
    emulator.migrated[-500] = -100500
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: len(emulator.messages.get(-100500, [])) == 1)
    assert await store.get(-500) is None
    moved = await store.get(-100500)
    assert moved is not None and moved.active and moved.regions == {"gaza"}
    assert await store.candidates(["gaza"]) == {-100500}


async def test_429_retry_after_is_honoured_then_delivered(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    for chat in (1, 2, 3, 4):
        await store.subscribe(chat, ["gaza"])
    emulator.inject_fault("429", chat_id=2, retry_after=2)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: emulator.total_sent >= 4)
    assert all(len(emulator.messages[c]) == 1 for c in (1, 2, 3, 4))
    sends = [c for c in emulator.log if c.method == "sendMessage"]
    limited = next(c for c in sends if c.status == 429)
    retried = [c for c in sends if c.chat_id == 2 and c.at > limited.at]
    assert len(retried) == 1 and retried[0].at - limited.at >= 2.0
    # retry_after applies bot-wide: apart from requests already in flight, nothing was sent
    # until it expired.
    assert not [c for c in sends if limited.at + 0.5 < c.at < limited.at + 2.0]
    assert emulator.counters.rate_limited == 0  # our own limiter never tripped the real limits


async def test_5xx_burst_delays_but_loses_nothing(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    chats = list(range(1, 11))
    for chat in chats:
        await store.subscribe(chat, ["gaza"])
    emulator.inject_fault("5xx", method="sendMessage", count=15)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: emulator.total_sent >= 10, timeout=40)
        await quiet(0.5)
    assert {c: len(emulator.messages[c]) for c in chats} == {c: 1 for c in chats}
    assert sum(1 for c in emulator.log if c.status == 502) == 15
    assert await redis.xlen(FAILED) == 0


async def test_failing_chat_is_parked_and_does_not_hold_up_later_alerts(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    chats = list(range(1, 7))
    for chat in chats:
        await store.subscribe(chat, ["gaza"])
    emulator.inject_fault("5xx", chat_id=1, count=1000)  # chat 1: Telegram keeps failing
    queue = RetryQueue(redis, DELIVERIES)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1, story="one"))
        assert await wait_until(lambda: all(len(emulator.texts(c)) == 1 for c in chats[1:]))
        assert await wait_until(queue.waiting)
        # The next alert goes out to everyone else while chat 1's job waits for its retry
        # (before, its in-handler backoff held up the following batch for ~15 s).
        await publish_alert(redis, make_alert(2, story="two"))
        assert await wait_until(
            lambda: all(len(emulator.texts(c)) == 2 for c in chats[1:]), timeout=8
        )
        assert 1 not in emulator.messages
        # Telegram recovers; make the parked jobs due now instead of waiting for the backoff.
        emulator.faults.clear()

        async def recovered() -> bool:
            await _make_due(redis, queue.key)
            return 1 in emulator.messages

        assert await wait_until(recovered)
        assert await wait_until(lambda: len(emulator.texts(1)) == 2)
        await quiet(0.5)
    assert {c: len(emulator.texts(c)) for c in chats} == {c: 2 for c in chats}
    assert await redis.xlen(FAILED) == 0
    assert (ctx.registry.get_sample_value(
        "cw_bot_deliveries_total", {"outcome": "retry_later"}) or 0) >= 1


async def _make_due(redis: Redis, key: str) -> None:
    members = cast(list[str], await redis.zrange(key, 0, -1))
    if members:
        await redis.zadd(key, dict.fromkeys(members, 0))


async def test_retry_queue_moves_each_due_job_back_once(redis: Redis) -> None:
    queue = RetryQueue(redis, "jobs")
    other = RetryQueue(redis, "jobs")  # a second replica moving the same queue
    await queue.schedule('{"n": 1}', 0)
    await queue.schedule('{"n": 2}', 0)
    await queue.schedule('{"n": 3}', 3600)
    moved = await asyncio.gather(queue.move_due(), other.move_due())
    assert sum(moved) == 2
    entries = await read_range(redis, "jobs")
    assert sorted(fields["data"] for _, fields in entries) == ['{"n": 1}', '{"n": 2}']
    assert await queue.waiting() == 1
