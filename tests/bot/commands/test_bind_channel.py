"""/bindchannel, /unbindchannel, /channels: bot admins only, with Telegram confirming the rights.

Binding in the channel itself: a bot admin gets a one-time code in a private chat, and a post of
``/bindchannel CODE`` in the channel binds it; a wrong, used or expired code binds nothing.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.channels import ChannelCommands
from bot.commands.updates import MAX_PENDING_PER_CHAT
from bot.i18n import RLM
from bot.notifier import role as notifier_role
from bot.store.channels import ChannelStore
from core import keys
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.botapi.rules import ADMIN_FLAGS
from testkit.waiting import wait_until
from tests.bot.helpers import (
    TOKEN,
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    say,
)

ADMIN = 7101
STRANGER = 7102
OTHER_ADMIN = 7103  # a bot admin who does not run the channel
CHANNEL = -1003000000001
NO_RIGHTS = -1003000000002  # the bot is a plain member there
GROUP = -1003000000003
UNKNOWN = -1003000000004
SECOND = -1003000000005  # another channel run by ADMIN, the bot an admin allowed to post
GAZA = "gaza-israel"
GIFTS = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
         "premium_subscription": False, "gifts_from_channels": False}


class ChannelEmulator(BotAPIEmulator):
    """The emulator plus getChat, @usernames and channel admins allowed to post."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.chats: dict[int, dict[str, Any]] = {}
        self.usernames: dict[str, int] = {}
        self.posters: dict[int, set[int]] = {}  # channel -> admins who may post (bot included)
        self.deleted: dict[int, list[int]] = {}  # chat -> message ids the bot deleted
        self.allowed_updates: list[str] = []  # as the bot last asked for them in getUpdates
        self._deletion = asyncio.Event()

    def add_chat(self, chat_id: int, kind: str, title: str, username: str = "") -> None:
        """Make a chat known to getChat."""
        self.chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        if username:
            self.chats[chat_id]["username"] = username
            self.usernames[f"@{username}".lower()] = chat_id

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params = await super()._params(request)
        ref = str(params.get("chat_id", ""))
        if ref.startswith("@"):
            params["chat_id"] = self.usernames.get(ref.lower(), UNKNOWN)
        return params

    async def _m_getChat(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        chat = self.chats.get(chat_id or 0)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        return self._ok({**chat, "accent_color_id": 0, "max_reaction_count": 11,
                         "accepted_gift_types": GIFTS})

    async def _m_deleteMessage(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        self.deleted.setdefault(chat_id or 0, []).append(int(params.get("message_id") or 0))
        self._deletion.set()
        return self._ok(True)

    async def _m_getUpdates(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        if "allowed_updates" in params:
            self.allowed_updates = list(self._json(params["allowed_updates"]))
        return await super()._m_getUpdates(params, chat_id)

    async def wait_deleted(self, chat_id: int, count: int, timeout: float = 30.0) -> None:
        """Wait until the bot has deleted ``count`` messages of ``chat_id``."""
        async with asyncio.timeout(timeout):
            while len(self.deleted.get(chat_id, [])) < count:
                self._deletion.clear()
                await self._deletion.wait()

    async def _m_getChatMember(self, params: dict[str, Any], chat_id: int | None) -> web.Response:
        user_id = int(params.get("user_id") or 0)
        user = {"id": user_id, "is_bot": user_id == self.bot_id, "first_name": "user"}
        if chat_id in self.posters:
            if user_id in self.posters[chat_id]:
                return self._ok({"status": "administrator", "user": user,
                                 **dict.fromkeys(ADMIN_FLAGS, False), "can_post_messages": True})
            return self._ok({"status": "left", "user": user})
        return await super()._m_getChatMember(params, chat_id)


@pytest.fixture
async def emu() -> AsyncIterator[ChannelEmulator]:
    """Channels: CHANNEL (@gazawatch, run by ADMIN), NO_RIGHTS, and a supergroup."""
    emulator = ChannelEmulator(TOKEN)
    async with emulator:
        emulator.add_chat(CHANNEL, "channel", "Gaza Watch", "gazawatch")
        emulator.posters[CHANNEL] = {emulator.bot_id, ADMIN}
        emulator.add_chat(NO_RIGHTS, "channel", "Elsewhere")
        emulator.posters[NO_RIGHTS] = {ADMIN}
        emulator.add_chat(GROUP, "supergroup", "A group")
        emulator.add_chat(SECOND, "channel", "Second")
        emulator.posters[SECOND] = {emulator.bot_id, ADMIN}
        yield emulator


async def test_an_admin_binds_a_channel_and_its_stories_are_posted(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    store = ChannelStore(redis)
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emu, ADMIN, f"/bindchannel {GAZA} @gazawatch", user_id=ADMIN)
        assert "Gaza Watch" in reply and str(CHANNEL) in reply and "Gaza" in reply, reply
        assert (await store.bindings())[CHANNEL].regions == {GAZA}
        reply = await say(emu, ADMIN, "/channels", user_id=ADMIN)
        assert str(CHANNEL) in reply and f"bound by {ADMIN}" in reply, reply
        async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
            await publish_alert(redis, make_alert(1, story="s1", regions=(GAZA,)))
            posts = await emu.wait_for_messages(CHANNEL, 1, timeout=30)
        assert "Truce broken in report 1" in posts[0].current
        reply = await say(emu, ADMIN, f"/unbindchannel {CHANNEL}", user_id=ADMIN)
        assert "no more posts" in reply, reply
        assert not await store.is_bound(CHANNEL)
        reply = await say(emu, ADMIN, f"/unbindchannel {CHANNEL}", user_id=ADMIN)
        assert "was not bound" in reply, reply


@pytest.mark.parametrize("case", [
    (STRANGER, f"/bindchannel {GAZA} {CHANNEL}", "administrators"),
    (OTHER_ADMIN, f"/bindchannel {GAZA} {CHANNEL}", "Only an admin of that channel"),
    (ADMIN, f"/bindchannel {GAZA} {NO_RIGHTS}", "The bot must be an admin of that channel"),
    (ADMIN, f"/bindchannel {GAZA} {UNKNOWN}", "cannot see that channel"),
    (ADMIN, f"/bindchannel {GAZA} @nosuchchannel", "cannot see that channel"),
    (ADMIN, f"/bindchannel {GAZA} {GROUP}", "not a channel"),
    (ADMIN, f"/bindchannel atlantis {CHANNEL}", "Unknown region"),
    (ADMIN, f"/bindchannel {GAZA} gazawatch", "neither a channel id"),
    (ADMIN, "/bindchannel", "Usage: /bindchannel"),
])
async def test_bindchannel_refusals(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path,
    case: tuple[int, str, str],
) -> None:
    user, text, expected = case
    settings = make_settings(redis_server.url, tmp_path, emu.url,
                             admins=frozenset({ADMIN, OTHER_ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emu, user, text, user_id=user)
    assert expected in reply, reply
    assert await ChannelStore(redis).bindings() == {}


async def test_an_anonymous_group_admin_cannot_bind(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(
            emu, GROUP, f"/bindchannel {GAZA} {CHANNEL}", user_id=1087968824,
            chat_type="supergroup", sender_chat={"id": GROUP, "type": "supergroup", "title": "g"},
        )
    assert "anonymously" in reply
    assert await ChannelStore(redis).bindings() == {}


async def get_code(emu: ChannelEmulator, admin: int = ADMIN) -> tuple[str, str]:
    """Ask for a pairing code in a private chat; return the code and the whole reply."""
    reply = await say(emu, admin, f"/bindchannel {GAZA}", user_id=admin)
    match = re.search(r"/bindchannel ([a-z0-9]{12})\b", reply)
    assert match is not None, reply
    return match.group(1), reply


async def post_code(emu: ChannelEmulator, channel: int, text: str) -> None:
    """Post ``text`` in ``channel`` and wait until the bot has deleted that post."""
    before = len(emu.deleted.get(channel, []))
    emu.inject_channel_post(channel, text, title=emu.chats[channel]["title"],
                            author_signature="Someone")
    await emu.wait_deleted(channel, before + 1)


async def test_a_code_posted_in_the_channel_binds_it_once(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    store = ChannelStore(redis)
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        code, reply = await get_code(emu)
        assert "within 10 minutes" in reply and "admin there with the right to post" in reply
        assert await store.bindings() == {}  # a code alone binds nothing
        before = len(emu.messages[ADMIN])
        await post_code(emu, CHANNEL, f"/bindchannel {code}")
        confirmation = (await emu.wait_for_messages(ADMIN, before + 1, timeout=30))[before]
        assert "Bound Gaza Watch" in confirmation.current and str(CHANNEL) in confirmation.current
        binding = (await store.bindings())[CHANNEL]
        assert binding.regions == {GAZA} and binding.by == ADMIN and binding.title == "Gaza Watch"
        reply = await say(emu, ADMIN, "/channels", user_id=ADMIN)
        assert str(CHANNEL) in reply and f"bound by {ADMIN}" in reply, reply
        # The same code again, in another channel the bot may post in: used up.
        await post_code(emu, SECOND, f"/bindchannel {code.upper()}")
        assert set(await store.bindings()) == {CHANNEL}
        assert len(emu.messages[ADMIN]) == before + 2  # the confirmation and /channels only
    assert CHANNEL not in emu.messages and SECOND not in emu.messages  # silent in channels
    assert "channel_post" in emu.allowed_updates


async def test_a_language_given_to_bindchannel_is_the_language_of_the_channel_posts(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    store = ChannelStore(redis)
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emu, ADMIN, f"/bindchannel {GAZA} @gazawatch pl", user_id=ADMIN)
        assert "Posts in Polish." in reply, reply
        # A code with a language, asked by an admin whose Telegram is in German: the
        # confirmation that reaches them from the channel is German too.
        reply = await say(emu, ADMIN, f"/bindchannel {GAZA} he", user_id=ADMIN,
                          language_code="de")
        assert "Beiträge auf Hebräisch." in reply, reply
        match = re.search(r"/bindchannel ([a-z0-9]{12})\b", reply)
        assert match is not None, reply
        before = len(emu.messages[ADMIN])
        await post_code(emu, SECOND, f"/bindchannel {match.group(1)}")
        confirmation = (await emu.wait_for_messages(ADMIN, before + 1, timeout=30))[before]
        assert confirmation.current.startswith(f"Second (<code>{SECOND}</code>) an Gaza")
        assert "Beiträge auf Hebräisch." in confirmation.current
        # Bound to one more region without a language: the channel keeps its own.
        await say(emu, ADMIN, "/bindchannel sudan @gazawatch", user_id=ADMIN)
        bound = await store.bindings()
        assert (bound[CHANNEL].lang, bound[SECOND].lang) == ("pl", "he")
        assert bound[CHANNEL].regions == {GAZA, "sudan"}
        listed = await say(emu, ADMIN, "/channels", user_id=ADMIN)
        assert "· Polish (bound by" in listed and "· Hebrew (bound by" in listed, listed
        bad = await say(emu, ADMIN, f"/bindchannel {GAZA} @gazawatch xx", user_id=ADMIN)
        assert bad.startswith("Unknown language xx.") and "Usage: /bindchannel" in bad, bad
        async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
            await publish_alert(redis, make_alert(1, story="s1", source="Reuters",
                                                  regions=(GAZA,)))
            polish = (await emu.wait_for_messages(CHANNEL, 1, timeout=30))[0]
            hebrew = (await emu.wait_for_messages(SECOND, 1, timeout=30))[0]
            # A second outlet: each post is edited, in its channel's language still.
            await publish_alert(redis, make_alert(2, story="s1", source="AP", regions=(GAZA,)))
            assert await wait_until(lambda: bool(polish.edits and hebrew.edits), timeout=30)
    assert "Czytaj: Reuters" in polish.current and "2 źródła" in polish.current
    assert "Read at" not in polish.current
    assert hebrew.current.startswith(RLM) and "שני מקורות" in hebrew.current
    assert len(emu.messages[CHANNEL]) == len(emu.messages[SECOND]) == 1


async def test_other_channel_posts_are_ignored(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        for text in ("Shelling reported at dawn", "/start", "/help@emu_bot", "/bindchannel",
                     f"/bindchannel {GAZA}", f"/bindchannel {GAZA} {CHANNEL}"):
            emu.inject_channel_post(CHANNEL, text, title="Gaza Watch")
        # A code-shaped guess, posted last: a channel's updates run in order, so once it is
        # deleted every post above was handled.
        await post_code(emu, CHANNEL, "/bindchannel abcdefghjkmn")
    assert len(emu.deleted[CHANNEL]) == 1  # only the guess was deleted
    assert CHANNEL not in emu.messages and ADMIN not in emu.messages
    assert await ChannelStore(redis).bindings() == {}


async def test_an_expired_code_binds_nothing(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot_role, "ChannelCommands",
                        functools.partial(ChannelCommands, pairing_ttl_s=0.5))
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        code, reply = await get_code(emu)
        assert "within 0.5 s (" in reply, reply
        key = keys.channel_pairing(hashlib.sha256(code.encode()).hexdigest())
        async with asyncio.timeout(30):
            while await redis.exists(key):  # reading an expired key removes it
                await asyncio.sleep(0.05)
        before = len(emu.messages[ADMIN])
        await post_code(emu, CHANNEL, f"/bindchannel {code}")
        assert len(emu.messages[ADMIN]) == before
    assert await ChannelStore(redis).bindings() == {}
    assert CHANNEL not in emu.messages


async def test_a_code_shown_in_a_group_is_void(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        code, _ = await get_code(emu)
        reply = await say(emu, GROUP, f"/bindchannel {code}", user_id=ADMIN,
                          chat_type="supergroup")
        assert "void" in reply and "in the channel itself" in reply, reply
        before = len(emu.messages[ADMIN])
        await post_code(emu, CHANNEL, f"/bindchannel {code}")
        assert len(emu.messages[ADMIN]) == before
        # Asking for a code in a group gives none.
        reply = await say(emu, GROUP, f"/bindchannel {GAZA}", user_id=ADMIN,
                          chat_type="supergroup")
        assert "private chat" in reply and not re.search(r"[a-z0-9]{12}", reply), reply
    assert await ChannelStore(redis).bindings() == {}


async def test_only_a_bot_admin_gets_a_code(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emu, STRANGER, f"/bindchannel {GAZA}", user_id=STRANGER)
    assert "administrators" in reply, reply
    assert [k async for k in redis.scan_iter(keys.channel_pairing("*"))] == []


async def test_a_code_in_a_channel_the_bot_cannot_post_in_tells_the_admin(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        code, _ = await get_code(emu)
        before = len(emu.messages[ADMIN])
        await post_code(emu, NO_RIGHTS, f"/bindchannel {code}")
        answer = (await emu.wait_for_messages(ADMIN, before + 1, timeout=30))[before].current
    assert "was not bound" in answer and "must be an admin" in answer, answer
    assert await ChannelStore(redis).bindings() == {}
    assert NO_RIGHTS not in emu.messages


async def test_a_flood_of_channel_posts_gets_no_slow_down_notice_in_the_channel(
    redis: Redis, redis_server: RedisProcess, emu: ChannelEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emu.url, admins=frozenset({ADMIN}))
    emu.delays[CHANNEL] = 0.2  # slow deleteMessage calls: the channel's queue fills up
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        for _ in range(MAX_PENDING_PER_CHAT + 10):
            emu.inject_channel_post(CHANNEL, "/bindchannel abcdefghjkmn", title="Gaza Watch")
        await emu.wait_deleted(CHANNEL, MAX_PENDING_PER_CHAT, timeout=60)
    assert CHANNEL not in emu.messages
