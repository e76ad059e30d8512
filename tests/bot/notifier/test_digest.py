"""Daily digest: queued instead of instant, sent once at the chat's hour with a PNG chart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import cast

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bot.notifier.digest import DigestScheduler, is_due
from bot.notifier.fanout import TelegramFanout
from bot.notifier.metrics import NotifierMetrics
from bot.store.messages import MessageLedger
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import Subscription, SubscriptionStore
from bot.telegram.flood import FloodLimiter
from core import keys
from core.config_files import default_config_dir
from core.keys import DELIVERIES
from core.models import DeliveryJob, decode
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from tests.bot.helpers import make_alert, make_settings


def test_due_at_local_hour_once_a_day() -> None:
    sub = Subscription(chat_id=1, digest="08:00", tz="Asia/Tokyo")  # UTC+9
    at_2330_utc = 1_700_000_000 - (1_700_000_000 % 86400) + 23 * 3600 + 30 * 60
    assert is_due(sub, at_2330_utc, None)  # 08:30 in Tokyo
    assert not is_due(sub, at_2330_utc - 3600, None)  # 07:30 in Tokyo
    assert not is_due(sub, at_2330_utc, "2023-11-15")  # already sent that local day


async def test_digest_chat_gets_one_summary_and_a_chart(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    from bot.telegram.api import make_bot

    subs = SubscriptionStore(redis)
    stories = StoryStore(redis)
    gaza = ("gaza-israel",)  # the ids of config/regions.yaml, as the classifier emits them
    await subs.subscribe(77, gaza)
    await subs.update(77, digest="00:00")
    await subs.subscribe(78, gaza)  # instant
    fanout = TelegramFanout(
        redis, subs, stories, MessageLedger(redis), NotifierMetrics(CollectorRegistry())
    )
    await fanout.handle(make_alert(1, story="s", source="AP", title="Strikes <overnight>",
                                   regions=gaza))
    await fanout.handle(make_alert(2, story="s", source="Reuters", regions=gaza))
    jobs = cast(list[tuple[str, dict[str, str]]], await redis.xrange(DELIVERIES))
    chats = {decode(fields, DeliveryJob).chat_id for _, fields in jobs}
    assert chats == {78}

    bot = make_bot(make_settings(redis_server.url, tmp_path, emulator.url))
    async with bot:
        scheduler = DigestScheduler(
            redis=redis, bot=bot, limiter=FloodLimiter(redis, "digest-test"), subs=subs,
            stories=stories, catalog=RegionCatalog.load(default_config_dir()),
        )
        assert await scheduler.run_due(time.time()) == 1
        assert await scheduler.run_due(time.time()) == 0  # once per local day
    text, photo = emulator.messages[77]
    assert "Daily digest" in text.text and "Strikes &lt;overnight&gt;" in text.text
    assert "AP, Reuters" in text.text and "2 sources" in text.text and "Gaza" in text.text
    assert photo.photo_bytes > 1000
    assert not await redis.zcard(keys.digest_queue(77))
