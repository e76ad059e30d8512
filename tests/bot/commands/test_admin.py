"""Admin commands: only listed admins, never anonymous admins or channel senders; URL guard."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.store.subscriptions import SubscriptionStore
from core import keys
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say

ADMIN = 7001
STRANGER = 7002


async def test_admin_commands_refused_to_everyone_but_admins(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(
        redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN})
    )
    ctx = make_ctx("bot", settings, redis)
    group = -100777
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.scoped_commands))
        (scope, commands), = emulator.scoped_commands.items()
        assert str(ADMIN) in scope and "addfeed" in {c["command"] for c in commands}
        # The admin's menu in each of the bot's languages too (Telegram picks the app's).
        assert await wait_until(lambda: (scope, "he") in emulator.scoped_language_commands)
        polish = {c["command"]: c["description"]
                  for c in emulator.scoped_language_commands[scope, "pl"]}
        assert polish["addfeed"] != next(
            c["description"] for c in commands if c["command"] == "addfeed")
        # A non-admin in private.
        reply = await say(emulator, STRANGER, "/stats", user_id=STRANGER)
        assert "administrators" in reply and "Chats:" not in reply
        # An anonymous group admin: Telegram sends it "from" GroupAnonymousBot, as the group.
        reply = await say(
            emulator, group, "/broadcast hello all", user_id=1087968824,
            chat_type="supergroup", sender_chat={"id": group, "type": "supergroup", "title": "g"},
        )
        assert "anonymously" in reply
        # A user posting as a channel, even if that channel's id were listed.
        reply = await say(
            emulator, group - 1, "/addfeed https://example.org/rss", user_id=136817688,
            chat_type="supergroup",
            sender_chat={"id": -100555, "type": "channel", "title": "c"},
        )
        assert "anonymously" in reply
        # The admin's own account works in private and in a group.
        reply = await say(emulator, ADMIN, "/stats", user_id=ADMIN)
        assert "Chats:" in reply
        reply = await say(emulator, group - 2, "/stats", user_id=ADMIN, chat_type="supergroup")
        assert "Chats:" in reply
        # The URL guard refuses loopback feeds.
        reply = await say(emulator, ADMIN, "/addfeed http://127.0.0.1/", user_id=ADMIN)
        assert reply.startswith("Refused")
        assert not await redis.hlen(keys.RUNTIME_FEEDS)
    # Nothing was broadcast: only the refusals and replies above went out.
    assert emulator.total_sent == 6


async def test_admin_broadcast_reaches_active_chats(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    for chat in (11, 12, 13):
        await store.subscribe(chat, ["gaza"])
    emulator.blocked.add(13)
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emulator, ADMIN, "/broadcast Maintenance <tonight>", user_id=ADMIN)
        assert "Broadcasting to 3 chats" in reply
        assert await wait_until(lambda: len(emulator.messages.get(12, [])) == 1)
        assert await wait_until(lambda: _inactive(store, 13))
    assert emulator.texts(11) == ["Maintenance &lt;tonight&gt;"]


async def _inactive(store: SubscriptionStore, chat: int) -> bool:
    sub = await store.get(chat)
    return sub is not None and not sub.active
