"""Channels through the Bot API emulator: one post per story, edited, limits kept, unbinding."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.i18n import RLM
from bot.notifier import role as notifier_role
from bot.notifier.channels import lost_channel
from bot.store.channels import ChannelStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.errors import TelegramFailure
from core import keys
from core.config_files import ConfigError
from core.models import DeliveryJob
from core.redis_conn import RedisProcess
from core.settings import ChannelEntry, Settings, load_settings, parse_channels
from core.streams import publish
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_alert, make_ctx, make_settings, publish_alert, running

GAZA = "gaza-israel"
GAZA_1, GAZA_2, SUDAN_1 = -1001000000001, -1001000000002, -1001000000003
ADMIN = 8801


def settings_with(
    redis_url: str, tmp: Path, api_url: str,
    channels: tuple[tuple[str, int] | tuple[str, int, str], ...],
    admins: frozenset[int] = frozenset(),
) -> Settings:
    """Test settings with ``CHANNELS`` bindings: (region, channel id[, language])."""
    settings = make_settings(redis_url, tmp, api_url, admins=admins)
    return settings.model_copy(update={"channels": parse_channels(list(channels))})


def calls_to(emulator: BotAPIEmulator, chat: int) -> int:
    """Bot API calls that named ``chat``."""
    return sum(1 for call in emulator.log if call.chat_id == chat)


async def test_one_post_per_story_per_channel_edited_as_sources_add(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    channels = ((GAZA, GAZA_1), (GAZA, GAZA_2), ("sudan", SUDAN_1))
    ctx = make_ctx("notifier", settings_with(redis_server.url, tmp_path, emulator.url, channels),
                   redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1, story="s1", source="Reuters", regions=(GAZA,)))
        await emulator.wait_for_messages(GAZA_1, 1, timeout=30)
        await emulator.wait_for_messages(GAZA_2, 1, timeout=30)
        # A second outlet: the post is edited, and so is one that alone would not pass.
        await publish_alert(redis, make_alert(2, story="s1", source="AP", regions=(GAZA,)))
        await publish_alert(redis, make_alert(
            3, story="s1", source="Al Jazeera", regions=(GAZA,), score=0.2,
        ))
        assert await wait_until(
            lambda: all("3 sources" in "".join(emulator.texts(c)) for c in (GAZA_1, GAZA_2)),
            timeout=30,
        )
        edits = {c: len(emulator.messages[c][0].edits) for c in (GAZA_1, GAZA_2)}
        # Redelivered alerts (same ids) post and edit nothing more.
        for n, source in ((1, "Reuters"), (2, "AP")):
            await publish_alert(redis, make_alert(n, story="s1", source=source, regions=(GAZA,)))
        # And so do redelivered jobs, however they come back.
        for chat in (GAZA_1, GAZA_2):
            await publish(redis, keys.DELIVERIES,
                          DeliveryJob(alert_id="al2", story_id="s1", chat_id=chat))
        assert await wait_until(lambda: ctx.registry.get_sample_value(
            "cw_bot_deliveries_total", {"outcome": "duplicate"}) == 2)
        await quiet(1.0)
    for chat in (GAZA_1, GAZA_2):
        assert len(emulator.messages[chat]) == 1, emulator.texts(chat)
        post = emulator.messages[chat][0]
        assert len(post.edits) == edits[chat]
        assert all(s in post.current for s in ("Reuters", "AP", "Al Jazeera"))
        # No feedback buttons: a channel has no per-reader votes.
        assert post.reply_markup is None
        assert post.parse_mode == "HTML"
    assert SUDAN_1 not in emulator.messages
    assert emulator.counters.rate_limited == 0


async def test_a_channel_bound_by_command_gets_posts_and_one_that_removed_the_bot_is_unbound(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = ChannelStore(redis, (ChannelEntry(GAZA, GAZA_1),))
    await store.bind(GAZA_2, GAZA, by=ADMIN, title="Gaza watch")
    emulator.blocked.add(GAZA_1)  # Telegram answers 403 once the bot was removed
    # The admin chose German in their private chat with the bot (no region followed).
    await SubscriptionStore(redis).update(ADMIN, lang="de")
    settings = settings_with(redis_server.url, tmp_path, emulator.url, ((GAZA, GAZA_1),),
                             admins=frozenset({ADMIN}))
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
        await publish_alert(redis, make_alert(1, story="s1", regions=(GAZA,)))
        await emulator.wait_for_messages(GAZA_2, 1, timeout=30)
        notices = await emulator.wait_for_messages(ADMIN, 1, timeout=30)
        assert "Kanal entbunden" in notices[0].current and str(GAZA_1) in notices[0].current
        assert f"/bindchannel REGION {GAZA_1}" in notices[0].current
        assert not await store.is_bound(GAZA_1)
        tried = calls_to(emulator, GAZA_1)
        await publish_alert(redis, make_alert(2, story="s2", regions=(GAZA,)))
        await emulator.wait_for_messages(GAZA_2, 2, timeout=30)
        await quiet(0.5)
    assert calls_to(emulator, GAZA_1) == tried  # no more posts tried there
    assert len(emulator.messages[ADMIN]) == 1  # told once
    off = await store.switched_off()
    assert list(off) == [GAZA_1] and "blocked" in off[GAZA_1]
    # Binding it again by command switches the CHANNELS entry back on.
    await store.bind(GAZA_1, GAZA, by=ADMIN)
    assert await store.is_bound(GAZA_1)


async def test_a_channel_with_a_language_posts_in_it_and_its_edit_stays_in_it(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    channels = ((GAZA, GAZA_1, "ar"), (GAZA, GAZA_2, "pl"), ("sudan", SUDAN_1))
    ctx = make_ctx("notifier", settings_with(redis_server.url, tmp_path, emulator.url, channels),
                   redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1, story="s1", source="Reuters", regions=(GAZA,)))
        await publish_alert(redis, make_alert(2, story="s2", regions=("sudan",)))
        for chat in (GAZA_1, GAZA_2, SUDAN_1):
            await emulator.wait_for_messages(chat, 1, timeout=30)
        arabic, polish = emulator.messages[GAZA_1][0], emulator.messages[GAZA_2][0]
        assert arabic.current.startswith(f"{RLM}<b>🔴 الإبلاغ عن خرق لوقف إطلاق النار</b>")
        assert "Czytaj: Reuters" in polish.current and "Read at" not in polish.current
        assert "Read at" in emulator.messages[SUDAN_1][0].current  # no language: English
        # A second outlet edits each post, in the channel's language still.
        await publish_alert(redis, make_alert(3, story="s1", source="AP", regions=(GAZA,)))
        assert await wait_until(lambda: bool(arabic.edits) and bool(polish.edits), timeout=30)
    assert arabic.current.startswith(RLM) and arabic.current.endswith("مصدران")
    assert all(line.startswith(RLM) for line in arabic.current.split("\n")
               if not line.startswith("<blockquote>"))
    assert "2 źródła" in polish.current and "sources" not in polish.current
    assert len(emulator.messages[GAZA_1]) == len(emulator.messages[GAZA_2]) == 1
    assert emulator.counters.rate_limited == 0


async def test_20_channels_and_1000_chats_on_one_alert_without_a_429(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    channels = tuple((GAZA, -1002000000000 - n) for n in range(20))
    subs = SubscriptionStore(redis)
    chats = range(10_000, 11_000)
    for chat in chats:
        await subs.subscribe(chat, [GAZA])
    settings = settings_with(redis_server.url, tmp_path, emulator.url, channels)
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
        await publish_alert(redis, make_alert(1, regions=(GAZA,)))
        # 1,020 messages at Telegram's 30/s take about 34 s: a generous bound.
        assert await wait_until(lambda: emulator.total_sent >= 1020, timeout=180), (
            emulator.total_sent
        )
        await quiet(0.5)
    targets = [c for _, c in channels] + list(chats)
    assert {c: len(emulator.messages.get(c, [])) for c in targets} == {c: 1 for c in targets}
    assert emulator.counters.rate_limited == 0
    assert all(call.status == 200 for call in emulator.log if call.method == "sendMessage")


def test_bad_channels_value_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890,sudan=@sudanwatch")
    with pytest.raises(ConfigError, match=r"'sudan=@sudanwatch'.*numeric id"):
        load_settings(config_dir=tmp_path)
    monkeypatch.setenv("CHANNELS", f"{GAZA}-1001234567890")
    with pytest.raises(ConfigError, match="expected region=channel_id"):
        load_settings(config_dir=tmp_path)
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890 gaza=-1001234567891")
    settings = load_settings(config_dir=tmp_path)
    assert settings.channels == (ChannelEntry(GAZA, -1001234567890),
                                 ChannelEntry("gaza", -1001234567891))
    # The region ids are checked against regions.yaml before any role starts.
    with pytest.raises(ConfigError, match="CHANNELS: entry 'gaza=-1001234567891': unknown region"):
        notifier_role.check_config(settings)
    # A YAML mapping reads the same as the environment's text.
    mapping = Settings.model_validate(
        {"channels": {GAZA: [-1001234567890, -1001234567892]}, "config_dir": tmp_path}
    )
    assert mapping.channels == (ChannelEntry(GAZA, -1001234567890),
                                ChannelEntry(GAZA, -1001234567892))
    notifier_role.check_config(mapping)
    # With a language: "region=id:lang" (today's form stays valid), in YAML as in the
    # environment; the language must be one of the bot's, the same for every entry of a channel.
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890:AR sudan=-1001234567891")
    settings = load_settings(config_dir=tmp_path)
    assert settings.channels == (ChannelEntry(GAZA, -1001234567890, "ar"),
                                 ChannelEntry("sudan", -1001234567891, ""))
    notifier_role.check_config(settings)
    listed = Settings.model_validate(
        {"channels": {GAZA: ["-1001234567890:he"]}, "config_dir": tmp_path})
    assert listed.channels == (ChannelEntry(GAZA, -1001234567890, "he"),)
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890:arabic")
    with pytest.raises(ConfigError, match="not a language code"):
        load_settings(config_dir=tmp_path)
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890:xx")
    with pytest.raises(ConfigError, match="unknown language 'xx'"):
        notifier_role.check_config(load_settings(config_dir=tmp_path))
    monkeypatch.setenv("CHANNELS", f"{GAZA}=-1001234567890:ar sudan=-1001234567890:he")
    with pytest.raises(ConfigError, match="another language"):
        notifier_role.check_config(load_settings(config_dir=tmp_path))


def test_channel_keys_live_under_the_prefix() -> None:
    assert keys.CHANNELS.startswith(keys.PREFIX) and keys.CHANNELS_OFF.startswith(keys.PREFIX)
    assert keys.CHANNELS != keys.CHANNELS_OFF


def test_only_failures_that_end_posting_unbind_a_channel() -> None:
    assert lost_channel(TelegramFailure("chat_gone", "Forbidden: bot is not a member"))
    assert lost_channel(TelegramFailure(
        "refused", "BadRequest: Need administrator rights in the channel chat"
    ))
    assert not lost_channel(TelegramFailure("refused", "BadRequest: message is too long"))
    assert not lost_channel(TelegramFailure("transient", "TimedOut: timed out"))
