"""Daily digest: queued, sent once at the chat's hour with a PNG chart and the truce states."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bot.i18n import translator
from bot.notifier.digest import (
    DigestScheduler,
    chart_labels,
    chart_png,
    is_due,
    render_digest,
    truce_lines,
)
from bot.notifier.fanout import TelegramFanout
from bot.notifier.metrics import NotifierMetrics
from bot.store.messages import MessageLedger
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryItem, StoryStore
from bot.store.subscriptions import Subscription, SubscriptionStore
from bot.telegram.flood import FloodLimiter
from bot.telegram.html import MAX_MESSAGE, tg_len
from core import keys
from core.config_files import default_config_dir
from core.keys import DELIVERIES
from core.models import DeliveryJob, TruceEvent, TruceEventKind, decode
from core.redis_conn import RedisProcess
from core.truce_model import Report, TruceState
from core.truce_store import add_report
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


def _report(n: int, at: datetime, kind: TruceEventKind, title: str = "") -> Report:
    return Report(alert_id=f"al{n}", story_id=f"s{n}", at=at, kind=kind,
                  label="violation" if kind == "violated" else "ceasefire",
                  title=title or f"Report {n}", event=TruceEvent(kind=kind))


async def test_digest_gives_the_truce_state_of_each_followed_region(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    from bot.telegram.api import make_bot

    now = datetime.now(UTC)
    day = timedelta(days=1)
    for r in (_report(1, now - 3 * day, "starts"), _report(2, now - 2 * day, "violated"),
              _report(3, now - day / 2, "violated", title="<b>Shelling</b>")):
        await add_report(redis, "nagorno-karabakh", r)
    await add_report(redis, "gaza-israel", _report(4, now - day, "call"))  # not followed
    await add_report(redis, "sudan", _report(5, now - day, "expired"))  # followed, no truce
    subs = SubscriptionStore(redis)
    await subs.subscribe(80, ["nagorno-karabakh", "sudan", "ukraine"])
    await subs.update(80, digest="00:00")
    bot = make_bot(make_settings(redis_server.url, tmp_path, emulator.url))
    async with bot:
        scheduler = DigestScheduler(
            redis=redis, bot=bot, limiter=FloodLimiter(redis, "digest-test"), subs=subs,
            stories=StoryStore(redis), catalog=RegionCatalog.load(default_config_dir()),
        )
        assert await scheduler.run_due(time.time()) == 1
    text = emulator.messages[80][0].text
    truces = text.split("<b>Truces</b>")[1].split("\n\n")[0].splitlines()[1:]
    assert len(truces) == 1, text  # Sudan has a state but no truce; Ukraine none; Gaza unfollowed
    assert truces[0].startswith("• Nagorno-Karabakh (Armenia–Azerbaijan): in force, violated")
    assert " since " in truces[0] and truces[0].endswith("violations in 24 h: 1")
    assert "No alerts for your regions" in text and "Shelling" not in text


def test_truce_lines_stay_when_stories_must_be_cut() -> None:
    truces = [f"• Region {n}: in force · violations in 24 h: {n}" for n in range(5)]
    stories = [[StoryItem(f"a{n}", "AP", "https://e.org", "x" * 140, "violation", 0.9, "", ("r",),
                          0.0)] for n in range(100)]
    text = render_digest(stories, {}, date(2025, 1, 1), truces)
    assert tg_len(text) <= MAX_MESSAGE and text.endswith("…")
    assert all(line in text for line in truces)


def test_digest_dates_truces_and_chart_axes_in_the_reader_language() -> None:
    now = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    fr = translator("fr").in_zone("Europe/Paris")
    state = TruceState(region="gaza", phase="in_force", since=now - timedelta(days=2),
                       until=now + timedelta(days=5), alive_at=now, last_report=now)
    lines = truce_lines([state], {"gaza": "Gaza"}, now, fr)
    # French phrases, Babel's French dates at Paris time (UTC+1 in January).
    assert lines == ["• Gaza: en vigueur depuis le 31 déc. 2025, 10:00 jusqu’au 7 janv. 2026, "
                     "10:00 · violations en 24 h : 0"]
    text = render_digest([], {}, date(2026, 1, 2), lines, lang="fr", zone="Europe/Paris")
    assert text.startswith("<b>Résumé quotidien — 2 janv. 2026</b>")
    assert "(heures Europe/Paris ; /ceasefire région" in text
    # The chart's days: the locale's in French; numeric in Arabic (matplotlib has no bidi).
    french = chart_labels(date(2026, 1, 2), fr)
    assert (len(french), french[0], french[-1]) == (30, "4 déc.", "2 janv.")
    assert chart_labels(date(2026, 1, 2), translator("ar"))[-1] == "2/1"
    for lang in ("hy", "ar", "az"):
        png = chart_png({"2026-01-02": 3}, date(2026, 1, 2), "Gaza", translator(lang))
        assert png.startswith(b"\x89PNG")
