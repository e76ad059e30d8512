"""/reactivate FEED: admins only; unknown and active feeds refused; the poller polls it again."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from bot.commands import role as bot_role
from core import keys
from core.models import FeedEvent, decode
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say
from tests.workers.poller.helpers import queued_articles, rss_with
from workers.poller import role as poller_role
from workers.poller.state import load_state

ADMIN = 7101
STRANGER = 7102


async def _events(redis: Redis) -> list[FeedEvent]:
    rows = cast(list[tuple[str, dict[str, str]]], await redis.xrange(keys.FEED_EVENTS))
    return [decode(fields, FeedEvent) for _, fields in rows]


async def test_reactivate_brings_a_deactivated_feed_back_for_admins_only(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    async with FeedServer() as server:
        server.dynamic["dead"] = rss_with([("d1", "Shelling resumes despite truce")])
        server.dynamic["alive"] = rss_with([("a1", "Talks resume")])
        (config / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - {{id: dead, url: '{server.url('/dyn/dead')}', name: Dead Feed}}\n"
            f"  - {{id: alive, url: '{server.url('/dyn/alive')}', name: Alive}}\n",
            encoding="utf-8")
        # As the poller leaves a feed after deactivate_after failures in a row.
        await redis.hset(keys.feed_state("dead"), mapping={
            "deactivated": 1, "deactivated_reason": "20 failures in a row; last: HTTP 500",
            "error_streak": 20, "next_poll": 0})
        settings = make_settings(redis_server.url, tmp_path, emulator.url,
                                 admins=frozenset({ADMIN}), config_dir=config)
        poller_ctx = make_ctx("poller", settings, redis)
        async with running(bot_role.run, make_ctx("bot", settings, redis)), \
                running(poller_role.run, poller_ctx):
            # The poller runs (it polled the live feed) and leaves the deactivated one alone.
            assert await wait_until(lambda: server.hits["/dyn/alive"] >= 1)
            assert server.hits["/dyn/dead"] == 0

            reply = await say(emulator, STRANGER, "/reactivate dead", user_id=STRANGER)
            assert "administrators" in reply
            assert (await load_state(redis, "dead")).deactivated == 1
            reply = await say(emulator, ADMIN, "/reactivate", user_id=ADMIN)
            assert "/reactivate ID" in reply
            reply = await say(emulator, ADMIN, "/reactivate nosuch", user_id=ADMIN)
            assert reply.startswith("No feed") and "nosuch" in reply
            # An admin whose Telegram is in Ukrainian reads the replies in Ukrainian.
            reply = await say(emulator, ADMIN, "/reactivate nosuch", user_id=ADMIN,
                              language_code="uk")
            assert reply == "Стрічки <code>nosuch</code> немає (див. /feeds)."
            reply = await say(emulator, ADMIN, "/reactivate", user_id=ADMIN, language_code="uk")
            assert reply == "Використання: /reactivate ID"
            reply = await say(emulator, STRANGER, "/reactivate dead", user_id=STRANGER,
                              language_code="uk")
            assert reply == "Ця команда — для адміністраторів бота."
            reply = await say(emulator, ADMIN, "/reactivate alive", user_id=ADMIN)
            assert "is not deactivated" in reply
            assert not await _events(redis)

            reply = await say(emulator, ADMIN, "/reactivate dead", user_id=ADMIN)
            assert reply.startswith("Reactivated feed")
            # Polled again, and its report queued, without a restart.
            assert await wait_until(lambda: server.hits["/dyn/dead"] >= 1)

            async def queued() -> bool:
                return any(a.feed_id == "dead" for a in await queued_articles(redis))

            assert await wait_until(queued)
            reply = await say(emulator, ADMIN, "/reactivate dead", user_id=ADMIN)
            assert "is not deactivated" in reply
    state = await load_state(redis, "dead")
    assert (state.deactivated, state.error_streak, state.deactivated_reason) == (0, 0, "")
    assert state.last_success > 0
    # One event for the admins' notices, however many times it was asked.
    (event,) = await _events(redis)
    assert (event.type, event.feed_id, event.name) == ("reactivated", "dead", "Dead Feed")
    assert event.reason == f"reactivated by admin {ADMIN}"
