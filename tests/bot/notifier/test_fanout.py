"""Notifier against the Bot API emulator: fan-out, one message per story, limits, faults."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.notifier import role as notifier_role
from bot.store.subscriptions import SubscriptionStore
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_alert, make_ctx, make_settings, publish_alert, running


async def _subscribe(redis: Redis, chats: range | list[int], region: str = "gaza") -> None:
    store = SubscriptionStore(redis)
    for chat in chats:
        await store.subscribe(chat, [region])


async def test_alert_reaches_each_matching_subscriber_once(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await _subscribe(redis, range(1, 21))
    await _subscribe(redis, [50], region="sudan")
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(1, title="Shelling <b>&amp; \"strikes\"</b>"))
        assert await wait_until(lambda: emulator.total_sent >= 20)
        # A redelivered alert (same id) must not repeat any message.
        await publish_alert(redis, make_alert(1))
        await publish_alert(redis, make_alert(2, regions=("syria",)))
        await quiet(1.0)
    for chat in range(1, 21):
        texts = emulator.texts(chat)
        assert len(texts) == 1, (chat, texts)
        assert "Shelling &lt;b&gt;&amp;amp; &quot;strikes&quot;&lt;/b&gt;" in texts[0]
        assert emulator.messages[chat][0].parse_mode == "HTML"
    assert 50 not in emulator.messages
    assert emulator.counters.rate_limited == 0
    # Latency observed once per (alert, chat): the redelivery added nothing.
    for since in ("published", "fetched"):
        assert ctx.registry.get_sample_value(
            "cw_alert_delivery_latency_seconds_count", {"since": since}
        ) == 20
    assert ctx.registry.get_sample_value(
        "cw_alert_delivery_latency_seconds_bucket", {"since": "fetched", "le": "86400.0"}
    ) == 20


async def test_three_outlets_one_story_edit_one_message(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    chats = list(range(100, 105))
    await _subscribe(redis, chats)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        for n, outlet in enumerate(["Reuters", "AP", "Al Jazeera"]):
            await publish_alert(redis, make_alert(10 + n, story="s1", source=outlet))
        assert await wait_until(
            lambda: all("3 sources" in "".join(emulator.texts(c)) for c in chats)
        )
    for chat in chats:
        assert len(emulator.messages[chat]) == 1
        text = emulator.texts(chat)[0]
        assert "Reuters" in text and "AP" in text and "Al Jazeera" in text
    assert emulator.counters.rate_limited == 0


async def test_300_subscribers_one_message_each_no_429(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    chats = range(1000, 1300)
    await _subscribe(redis, chats)
    ctx = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(notifier_role.run, ctx):
        await publish_alert(redis, make_alert(7))
        assert await wait_until(lambda: emulator.total_sent >= 300, timeout=40)
        await quiet(0.5)
    assert {c: len(emulator.messages.get(c, [])) for c in chats} == {c: 1 for c in chats}
    assert emulator.counters.rate_limited == 0
