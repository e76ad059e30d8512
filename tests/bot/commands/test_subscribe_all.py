"""``/subscribe all``: listed in /help, and it follows every region."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.store.subscriptions import ALL_REGIONS, SubscriptionStore
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import USER, make_ctx, make_settings, running, say


async def test_help_lists_subscribe_all_and_it_follows_every_region(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.commands))
        reply = await say(emulator, USER, "/help")
        assert "/subscribe [region… | all]" in reply
        await say(emulator, USER, "/subscribe all")
        sub = await SubscriptionStore(redis).get(USER)
        assert sub is not None and sub.regions == {ALL_REGIONS}
        assert USER in await SubscriptionStore(redis).candidates(["sudan"])
        reply = await say(emulator, USER, "/list")
        assert "all regions" in reply
