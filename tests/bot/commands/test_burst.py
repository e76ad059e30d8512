"""Bursts of commands are all answered and applied; one chat's flood delays no other chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.commands import role as bot_role
from bot.commands.updates import MAX_PENDING_PER_CHAT, MAX_RUNNING, SLOW_DOWN
from bot.store.subscriptions import SubscriptionStore
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running

SORRY = "Sorry, that did not work"


async def _other_role(redis: Redis, done: Callable[[], bool]) -> tuple[int, list[str]]:
    """Write and read through ``redis`` until ``done``; return calls made and errors seen."""
    calls, errors = 0, []
    while not done():
        try:
            await redis.incr("test:other-role")
            calls += 1
        except RedisError as exc:
            errors.append(type(exc).__name__)
        await asyncio.sleep(0.01)  # the other role's pace: steady traffic, not a wait
    return calls, errors


@pytest.mark.parametrize("users", [300, 1000])
async def test_a_burst_of_subscribes_is_answered_once_each_and_applied(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path,
    users: int,
) -> None:
    chats = [500_000 + n for n in range(users)]
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    # Replies leave at Telegram's 30 messages/s: 1,000 of them need over 30 s.
    async with running(bot_role.run, ctx, stop_timeout=60):
        assert await wait_until(lambda: bool(emulator.commands))
        for chat in chats:  # as fast as the emulator takes them: all queued before a poll
            emulator.inject_message(chat, "/subscribe ukraine", user_id=chat)
        # Another role of the same process uses the same client all through the burst.
        other_role = asyncio.create_task(_other_role(redis, lambda: all(
            chat in emulator.messages for chat in chats
        )))
        answered = await wait_until(
            lambda: all(chat in emulator.messages for chat in chats), timeout=60 + users / 10
        )
        assert answered, f"{sum(c in emulator.messages for c in chats)} of {users} answered"
        calls, errors = await other_role
        assert calls > 0 and errors == []
        # The bot's share of the process's pool is bounded, whatever the burst.
        clients = await redis.info("clients")
        assert int(clients["connected_clients"]) <= MAX_RUNNING + 8
    # The role has stopped (every fetched update handled): nothing more can arrive.
    for chat in chats:
        texts = emulator.texts(chat)
        assert len(texts) == 1, (chat, texts)
        assert "Subscribed to Ukraine" in texts[0] and SORRY not in texts[0], (chat, texts)
    store = SubscriptionStore(redis)
    assert await store.candidates(["ukraine"]) == set(chats)
    assert set(await store.active_ids()) == set(chats)
    assert emulator.counters.rate_limited == 0


async def test_one_chats_flood_does_not_delay_other_chats(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    flooder, others = 4_000, [4_100 + n for n in range(20)]
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    # On stop the role finishes the flooder's accepted commands, at one reply a second.
    async with running(bot_role.run, ctx, stop_timeout=30 + 2 * MAX_PENDING_PER_CHAT):
        assert await wait_until(lambda: bool(emulator.commands))
        for n in range(1, 501):
            emulator.inject_message(flooder, f"/mute {n}m", user_id=flooder)
        for chat in others:
            emulator.inject_message(chat, "/subscribe ukraine", user_id=chat)
        for chat in others:
            await emulator.wait_for_messages(chat, 1, timeout=60)
        # The flooder is answered at most once a second (Telegram's per-chat limit), so its
        # 5th reply comes seconds after its first. Before the fix every other chat waited
        # behind some 250 of the flooder's commands, one second each.
        fifth = (await emulator.wait_for_messages(flooder, 5, timeout=60))[4]
        for chat in others:
            first = emulator.messages[chat][0]
            assert first.message_id < fifth.message_id, chat
            assert "Subscribed to Ukraine" in first.current
    texts = emulator.texts(flooder)
    assert texts.count(SLOW_DOWN) == 1
    minutes = [int(m.group(1)) for t in texts if (m := re.search(r"Muted for (\d+) min", t))]
    # Commands it accepted ran in the order sent; the excess was dropped, not queued.
    assert minutes == sorted(minutes) and minutes[0] == 1
    assert len(minutes) + 1 == len(texts) and len(minutes) < 500
    sub = await SubscriptionStore(redis).get(flooder)
    assert sub is not None and sub.muted()
    assert emulator.counters.rate_limited == 0
