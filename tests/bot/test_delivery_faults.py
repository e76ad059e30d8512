"""Telegram failures during delivery: blocked, missing, migrated chats, 429 and 5xx bursts."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot import notifier_role
from bot.delivery import FAILURES
from bot.subscriptions import SubscriptionStore
from core.redis_conn import RedisProcess
from tests.bot.helpers import (
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    wait_until,
)
from tests.support.botapi_emulator import BotAPIEmulator


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
        assert await wait_until(lambda: redis.xlen(FAILURES))

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
    assert await redis.xlen(FAILURES) == 2


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
        await wait_until(lambda: False, timeout=0.5)
    assert {c: len(emulator.messages[c]) for c in chats} == {c: 1 for c in chats}
    assert sum(1 for c in emulator.log if c.status == 502) == 15
    assert await redis.xlen(FAILURES) == 0
