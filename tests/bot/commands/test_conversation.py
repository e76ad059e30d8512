"""The bot's commands through PTB long polling against the emulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.store.subscriptions import SubscriptionStore
from core import keys
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import TOKEN, USER, make_ctx, make_settings, running, say


async def test_conversation_subscribe_by_keyboard_list_threshold_unsubscribe(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    chat = USER
    store = SubscriptionStore(redis)
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.commands))
        assert {"start", "subscribe", "unsubscribe", "list", "threshold"} <= {
            c["command"] for c in emulator.commands
        }
        assert "addfeed" not in {c["command"] for c in emulator.commands}

        reply = await say(emulator, chat, "/start")
        assert "/subscribe" in reply

        reply = await say(emulator, chat, "/subscribe")
        assert "Pick the regions" in reply
        keyboard = emulator.messages[chat][-1]
        assert keyboard.reply_markup is not None
        buttons = [b for row in keyboard.reply_markup["inline_keyboard"] for b in row]
        gaza = next(b for b in buttons if b["text"].startswith("Gaza"))
        emulator.inject_callback(chat, USER, keyboard.message_id, gaza["callback_data"])
        assert await wait_until(lambda: bool(emulator.answered_callbacks))
        assert "Subscribed to Gaza" in str(emulator.answered_callbacks[0].get("text"))
        assert await wait_until(lambda: bool(keyboard.edits))
        assert "Gaza" in keyboard.current and "Following" in keyboard.current
        sub = await store.get(chat)
        assert sub is not None and sub.regions == {"gaza-israel"}

        reply = await say(emulator, chat, "/list")
        assert "Following:</b> Gaza" in reply and "Threshold:</b> the classifier's default" in reply

        reply = await say(emulator, chat, "/threshold 0.8")
        assert "0.8" in reply
        sub = await store.get(chat)
        assert sub is not None and sub.threshold == 0.8
        reply = await say(emulator, chat, "/threshold default")
        assert "default" in reply
        sub = await store.get(chat)
        assert sub is not None and sub.threshold is None
        reply = await say(emulator, chat, "/threshold 0.8")

        reply = await say(emulator, chat, "/threshold 7")
        assert "between 0 and 1" in reply and "Usage: /threshold" in reply

        reply = await say(emulator, chat, "/unsubscribe all")
        assert "follows no region" in reply
        assert await store.candidates(["gaza-israel"]) == set()
    assert emulator.counters.rate_limited == 0


async def test_bad_and_overlong_arguments_get_usage_not_a_trace(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    async with BotAPIEmulator(TOKEN) as emu:
        ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emu.url), redis)
        async with running(bot_role.run, ctx):
            chat = -1001
            for group in [chat, *range(-2000, -2000 - 20, -1)]:
                emu.chat_admins[group] = {USER}
            cases = {
                "/subscribe atlantis": "Unknown region",
                "/subscribe <b>x&y": "Unknown region: &lt;b&gt;x&amp;y",
                "/timezone <i>": "Unknown time zone “&lt;i&gt;”",
                "/subscribe " + "x" * 400: "Too many or too long",
                "/mute forever": "duration",
                "/mute 90d": "30 days",
                "/digest daily 25:00": "Usage: /digest",
                "/timezone Mars/Olympus": "Unknown time zone",
                "/kinds some": "Usage: /kinds",
                "/unsubscribe": "Usage: /unsubscribe",
                "/latest nowhere": "Unknown region",
            }
            # One chat per case: the bot spaces messages to one chat by a second.
            for n, (text, expected) in enumerate(cases.items()):
                reply = await say(emu, -2000 - n, text, chat_type="supergroup")
                assert expected in reply, (text, reply)
                assert "Traceback" not in reply
            reply = await say(emu, chat, "/subscribe@emu_bot Gaza, sudan", chat_type="supergroup")
            assert "Gaza" in reply and "Sudan" in reply
            reply = await say(emu, chat, "/digest daily 8:30", chat_type="supergroup")
            assert "08:30" in reply
            reply = await say(emu, chat, "/timezone UTC+3", chat_type="supergroup")
            assert "Etc/GMT-3" in reply
            reply = await say(emu, chat, "/mute 2h", chat_type="supergroup")
            assert "120 minutes" in reply
        sub = await SubscriptionStore(redis).get(chat)
        assert sub is not None and sub.regions == {"gaza-israel", "sudan"} and sub.digest == "08:30"
        assert sub.muted() and sub.tz == "Etc/GMT-3"


async def test_only_group_admins_change_group_settings(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    group, admin, member = -100321, 11, 12
    emulator.chat_admins[group] = {admin}
    store = SubscriptionStore(redis)
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        reply = await say(emulator, group, "/subscribe gaza", user_id=member,
                          chat_type="supergroup")
        assert "Only this group's administrators" in reply and "Usage" not in reply
        assert await store.get(group) is None
        # Anyone may read the group's settings.
        reply = await say(emulator, group, "/list", user_id=member, chat_type="supergroup")
        assert "follows no region" in reply
        # An anonymous admin writes as the group itself: allowed.
        reply = await say(emulator, group, "/subscribe sudan", user_id=1087968824,
                          chat_type="supergroup",
                          sender_chat={"id": group, "type": "supergroup", "title": "g"})
        assert "Sudan" in reply
        reply = await say(emulator, group, "/threshold 0.7", user_id=admin,
                          chat_type="supergroup")
        assert "0.7" in reply
    sub = await store.get(group)
    assert sub is not None and sub.regions == {"sudan"} and sub.threshold == 0.7


async def test_latest_and_status_after_an_alert(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    from bot.notifier import role as notifier_role
    from tests.bot.helpers import make_alert, publish_alert

    settings = make_settings(redis_server.url, tmp_path, emulator.url)
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)), \
            running(bot_role.run, make_ctx("bot", settings, redis, consumer="test-bot-0")):
        await publish_alert(redis, make_alert(1, title="Drone strikes <despite> truce",
                                              regions=("gaza-israel",)))
        await publish_alert(redis, make_alert(2, regions=("sudan",), title="El Fasher shelled"))
        assert await wait_until(_has_latest(redis, 2))
        reply = await say(emulator, 61, "/latest")
        assert "Drone strikes &lt;despite&gt; truce" in reply and "El Fasher" in reply
        reply = await say(emulator, 62, "/latest gaza")
        assert "Drone strikes" in reply and "El Fasher" not in reply
        reply = await say(emulator, 63, "/status")
        assert "Pipeline status" in reply and "alerts" in reply
        reply = await say(emulator, 64, "/status", language_code="tr")
        assert reply.startswith("<b>Sistem durumu</b>") and "<code>alerts</code>: bekleyen" in reply
        assert "waiting" not in reply


def _has_latest(redis: Redis, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return int(await redis.llen(keys.LATEST)) >= count

    return check


async def test_a_slow_chat_does_not_stall_other_chats_commands(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    group = -300
    emulator.delays[group] = 2.0  # every Bot API call about this group answers slowly
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.commands))
        emulator.inject_message(group, "/threshold 0.7", user_id=USER, chat_type="supergroup")
        # The group's handler is now waiting on its slow admin check (getChatMember).
        assert await wait_until(lambda: emulator.counters.requests.get("getChatMember", 0) >= 1)
        reply = await say(emulator, USER, "/help")
        assert "Commands" in reply
        # The private chat was answered while the group's update was still being handled.
        assert group not in emulator.messages
        await emulator.wait_for_messages(group, 1, timeout=15)
    assert emulator.messages[group][0].message_id > emulator.messages[USER][0].message_id
