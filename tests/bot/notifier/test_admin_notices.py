"""Feed events from the poller reach every admin once, or the log when the bot is off."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.notifier import role as notifier_role
from core.keys import FEED_EVENTS, group
from core.models import FeedEvent, FeedEventType
from core.redis_conn import RedisProcess
from core.streams import publish
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_ctx, make_settings, running


async def _pending(redis: Redis) -> int:
    info = await redis.xpending(FEED_EVENTS, group(FEED_EVENTS))
    return int(info["pending"])


async def _event(
    redis: Redis, event_type: FeedEventType, feed_id: str = "broken-feed", *,
    age_s: float = 0.0, url: str = "", name: str = "", reason: str = "", kind: str = "",
) -> None:
    """Publish a feed event as the poller does."""
    await publish(redis, FEED_EVENTS, FeedEvent(
        type=event_type, feed_id=feed_id, at=time.time() - age_s, url=url, name=name,
        reason=reason, kind=kind,
    ))


async def _deactivated(redis: Redis) -> None:
    await _event(
        redis, "deactivated", url="https://news.example.org/rss", name="Broken <Feed>",
        reason="20 failures in a row; last: HTTP 500", kind="http",
    )


async def test_each_event_reaches_every_admin_once(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    admins = frozenset({7, 8, 9})
    emulator.blocked.add(9)  # an admin who blocked the bot must not hold up the others
    emulator.inject_fault("5xx", chat_id=8)  # a transient failure: retried, not lost
    # An event from long ago (e.g. the backlog found on a first deployment) is not messaged.
    await _event(redis, "deactivated", "old", age_s=3 * 86400)
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=admins)
    ctx = make_ctx("notifier", settings, redis)
    async with running(notifier_role.run, ctx):
        await _deactivated(redis)
        await _event(redis, "reactivated")
        assert await wait_until(
            lambda: len(emulator.texts(7)) == 2 and len(emulator.texts(8)) == 2
        )
        assert await wait_until(lambda: ctx.registry.get_sample_value(
            "cw_bot_feed_events_total", {"outcome": "sent"}) == 2)
    for chat in (7, 8):
        deactivated, reactivated = emulator.texts(chat)
        assert "Feed deactivated" in deactivated and "Broken &lt;Feed&gt;" in deactivated
        assert "/removefeed" in deactivated and "/addfeed once it works" in deactivated
        assert "<code>broken-feed</code>" in deactivated
        assert "20 failures in a row; last: HTTP 500" in deactivated
        assert "https://news.example.org/rss" in deactivated
        assert "Feed reactivated" in reactivated
    assert 9 not in emulator.messages
    assert next(c.status for c in emulator.log if c.chat_id == 8) == 502
    assert await _pending(redis) == 0
    assert ctx.registry.get_sample_value("cw_bot_feed_events_total", {"outcome": "stale"}) == 1
    assert emulator.counters.rate_limited == 0

    # A restarted notifier (same consumer name) finds nothing left to tell.
    again = make_ctx("notifier", settings, redis)
    async with running(notifier_role.run, again):
        await _deactivated(redis)
        assert await wait_until(lambda: len(emulator.texts(7)) == 3)
        await quiet(0.5)
    assert len(emulator.texts(7)) == 3 and len(emulator.texts(8)) == 3
    assert await _pending(redis) == 0


async def test_events_are_logged_when_the_bot_is_off(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.notifier.admin_notices")
    settings = make_settings(redis_server.url, tmp_path, None, token=None,
                             admins=frozenset({7}))
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
        await _deactivated(redis)
        assert await wait_until(lambda: "feed event: deactivated broken-feed" in caplog.text)
    assert "20 failures in a row" in caplog.text
    assert await _pending(redis) == 0


def test_a_feed_event_reads_in_the_admin_language() -> None:
    from bot.i18n import translator
    from bot.notifier.admin_notices import render_event

    event = FeedEvent(type="deactivated", feed_id="f1", at=1_700_000_000.0, name="Dead <Feed>",
                      reason="20 failures in a row; last: HTTP 500", kind="http")
    text = render_event(event, translator("uk").in_zone("Europe/Kyiv"))
    assert text.startswith("⚠️ <b>Стрічку вимкнено</b>: Dead &lt;Feed&gt; (<code>f1</code>)")
    assert "/reactivate f1" in text and "Причина: 20 failures in a row" in text
    # Babel's Ukrainian date, at Kyiv's hour (UTC+2 in November), the zone named.
    assert text.endswith("Час: 15 лист. 2023\u202fр., 00:13 Europe/Kyiv")
    assert render_event(event).endswith("At Nov 14, 2023, 22:13 UTC")
