"""What the bot answers to unknown input, partial region lists, bad thresholds and /help."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.args import UsageError, parse_threshold
from bot.store.subscriptions import SubscriptionStore
from core import keys
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say

ADMIN = 8001
USER = 8002
GROUP = -100_8003


@pytest.mark.parametrize(
    "text", ["-0", "0", "0%", "-0.0", "0.0001", "nan", "NaN%", "inf", "-inf", "1.0001", "2"]
)
def test_threshold_must_be_above_zero_and_at_most_one(text: str) -> None:
    with pytest.raises(UsageError):
        parse_threshold([text])


@pytest.mark.parametrize(("text", "value"), [("1", 1.0), ("0.001", 0.001), ("80%", 0.8)])
def test_threshold_accepts_the_range(text: str, value: float) -> None:
    assert parse_threshold([text]) == value


async def test_unknown_input_gets_a_hint_in_private_and_silence_in_groups(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        reply = await say(emulator, USER, "/frobnicate now", user_id=USER)
        assert "/frobnicate" in reply and "/help" in reply
        reply = await say(emulator, USER, "hello, what can you do?", user_id=USER)
        assert "/help" in reply
        reply = await say(emulator, USER + 1, "/<b>", user_id=USER + 1)
        assert "&lt;b&gt;" in reply
        # A button of some older keyboard is answered, so it does not spin forever.
        emulator.inject_callback(USER, USER, emulator.messages[USER][0].message_id, "old:1")
        assert await wait_until(lambda: bool(emulator.answered_callbacks))
        assert "no longer works" in str(emulator.answered_callbacks[0].get("text"))
        # In a group: text, commands of other bots and unaddressed unknown commands are not
        # ours. One chat's updates are handled in order, so the /list reply coming first
        # shows that none of them was answered.
        for text in ("good morning", "/frobnicate", "/help@other_bot", "/roll@dice_bot 6"):
            emulator.inject_message(GROUP, text, user_id=USER, chat_type="supergroup")
        reply = await say(emulator, GROUP, "/list", user_id=USER, chat_type="supergroup")
        assert "follows no region" in reply
        reply = await say(emulator, GROUP, "/frobnicate@emu_bot", user_id=USER,
                          chat_type="supergroup")
        assert "/frobnicate" in reply and "/help" in reply
    assert len(emulator.messages[GROUP]) == 2


async def test_subscribe_says_what_was_added_unknown_or_unchanged(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        reply = await say(emulator, USER, "/subscribe narnia ukraine", user_id=USER)
        assert "Subscribed to Ukraine" in reply and "Unknown region: narnia" in reply
        assert "Nothing changed" not in reply
        sub = await store.get(USER)
        assert sub is not None and sub.regions == {"ukraine"}

        # (command, what the reply must say, what it must not), in this order.
        steps: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
            ("/subscribe narnia", ("Unknown region: narnia", "Nothing changed"), ()),
            ("/subscribe ukraine", ("Already following Ukraine", "Nothing changed"), ("Usage",)),
            ("/subscribe ukraine gaza", ("Subscribed to Gaza",), ("Unknown",)),
            ("/unsubscribe narnia sudan", ("Nothing changed", "Unknown region: narnia"), ()),
            ("/unsubscribe sudan", ("follows none of those", "Nothing changed"), ("Usage",)),
            ("/unsubscribe narnia gaza", ("Unsubscribed from Gaza", "Unknown region: narnia"), ()),
        ]
        for command, said, unsaid in steps:
            reply = await say(emulator, USER, command, user_id=USER)
            assert all(s in reply for s in said), (command, reply)
            assert not any(s in reply for s in unsaid), (command, reply)
        sub = await store.get(USER)
        assert sub is not None and sub.regions == {"ukraine"}

        reply = await say(emulator, USER, "/latest narnia", user_id=USER)
        assert "Unknown region: narnia" in reply and reply.count("Usage:") == 1

        for bad in ("-0", "0", "nan", "inf", "-inf", "1e-9"):
            reply = await say(emulator, USER + 7, f"/threshold {bad}", user_id=USER + 7)
            assert "between 0 and 1" in reply, (bad, reply)
        assert await store.get(USER + 7) is None
        reply = await say(emulator, USER + 7, "/threshold 1", user_id=USER + 7)
        assert "Threshold set to 1" in reply


async def test_help_shows_admin_commands_to_admins_in_private_only(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emulator, USER, "/help", user_id=USER)
        assert "/subscribe" in reply and "/addfeed" not in reply and "Admins" not in reply
        reply = await say(emulator, ADMIN, "/help", user_id=ADMIN)
        assert "/subscribe" in reply and "/addfeed" in reply and "/broadcast" in reply
        # Everyone in a group reads the reply, so admin commands stay out of it.
        reply = await say(emulator, GROUP, "/help", user_id=ADMIN, chat_type="supergroup")
        assert "/subscribe" in reply and "/addfeed" not in reply

        reply = await say(emulator, ADMIN, "/addfeed http://127.0.0.1/", user_id=ADMIN)
        assert reply.startswith("Refused") and reply.lower().count("refused") == 1
        assert not await redis.hlen(keys.RUNTIME_FEEDS)
    assert emulator.counters.rate_limited == 0
