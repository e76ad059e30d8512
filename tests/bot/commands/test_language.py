"""The reader's language in the Bot API emulator: Telegram's language, /language, alerts, digest."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.i18n import LANGUAGES, RLM
from bot.notifier import role as notifier_role
from bot.notifier.digest import DigestScheduler
from bot.notifier.fanout import TelegramFanout
from bot.notifier.metrics import NotifierMetrics
from bot.store.messages import MessageLedger
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import Subscription, SubscriptionStore
from bot.telegram.flood import FloodLimiter
from core.config_files import default_config_dir
from core.models import Alert
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import (
    USER,
    buttons,
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    say,
)

GAZA = ("gaza-israel",)  # an id of config/regions.yaml


def alert_in(n: int, lang: str, story: str = "", source: str = "Outlet") -> Alert:
    """A violation alert whose article (and evidence) is in ``lang``."""
    alert = make_alert(n, story=story, regions=GAZA, source=source)
    article = alert.article.model_copy(update={"lang": lang})
    return alert.model_copy(update={"article": article, "lang": lang})


async def test_telegram_language_then_language_command_then_a_german_alert(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emulator.url)
    subs = SubscriptionStore(redis)
    async with running(bot_role.run, make_ctx("bot", settings, redis)), \
            running(notifier_role.run, make_ctx("notifier", settings, redis)):
        assert await wait_until(lambda: len(emulator.language_commands) == 11)
        # Telegram's command menu in each language, the default one in English.
        german = {c["command"]: c["description"] for c in emulator.language_commands["de"]}
        assert german["help"] == "Was jeder Befehl tut" and "stats" not in german
        assert {c["command"]: c["description"] for c in emulator.commands}["help"] == (
            "What every command does"
        )
        # No language_code, no choice: English, as before.
        assert (await say(emulator, USER, "/help")).startswith("<b>Commands</b>")
        # A Polish Telegram app: Polish /help, English usage lines untouched.
        polish = await say(emulator, USER, "/help", language_code="pl")
        assert polish.startswith("<b>Polecenia</b>") and "/subscribe [region… | all]" in polish
        assert "Obserwuj regiony" in polish and "/language" in polish
        # /start remembers it for the notifier, which has no user to ask.
        assert "Użyj /subscribe" in await say(emulator, USER, "/start", language_code="pl")
        sub = await subs.get(USER)
        assert sub is not None and sub.lang == "pl"
        # /language de switches, whatever the app's language.
        assert await say(emulator, USER, "/language de", language_code="pl") == (
            "Sprache auf Deutsch gestellt."
        )
        assert (await say(emulator, USER, "/help", language_code="pl")).startswith(
            "<b>Befehle</b>"
        )
        # Replies, argument errors and the usage line follow it (its syntax kept verbatim).
        assert await say(emulator, USER, "/mute 99d") == (
            "Höchstens 30 Tage.\nVerwendung: /mute 2h (e.g. 30m, 8h, 2d)"
        )
        assert (await say(emulator, USER, "/mute 1")).startswith("Für 1 Minute stummgeschaltet.")
        assert "Für 5 Minuten" in await say(emulator, USER, "/mute 5m")
        assert await say(emulator, USER, "/unmute") == "Meldungen fortgesetzt."
        # An unknown code: a clear message naming all twelve.
        unknown = await say(emulator, USER, "/language xx")
        assert unknown.startswith("Unbekannte Sprache xx.")
        assert all(code in unknown for code in LANGUAGES)
        assert len(LANGUAGES) == 12
        # An alert: German frame and buttons, the evidence in English, its language named.
        listed = await say(emulator, USER, "/subscribe gaza-israel")
        assert listed.startswith("Abonniert: Gaza") and "<b>Verfolgt:</b> Gaza" in listed
        assert "<b>Stummgeschaltet:</b> nein" in listed
        before = len(emulator.messages[USER])
        await publish_alert(redis, alert_in(1, "en", story="s1"))
        await publish_alert(redis, alert_in(2, "en", story="s1", source="Reuters"))
        assert await wait_until(
            lambda: len(emulator.messages[USER]) > before
            and "Reuters" in emulator.messages[USER][before].current, timeout=30,
        )
        alert = emulator.messages[USER][before]
        text = alert.current
        assert text.startswith("<b>🔴 Bruch der Waffenruhe gemeldet</b> · Konfidenz 90%")
        assert "🗣 Zitat (Englisch):" in text
        assert "<blockquote>Shelling continued despite the truce.</blockquote>" in text
        assert ">Lesen bei Outlet</a>" in text and "— 2 Quellen" in text
        labels = set(buttons(alert.reply_markup))
        assert labels == {"✅ Richtig", "❌ Fehlalarm", "🗺 Falsche Region"}


async def test_language_keyboard_switches_to_arabic_right_to_left(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emulator.url)
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        assert await wait_until(lambda: bool(emulator.commands))
        await say(emulator, USER, "/language")
        menu = emulator.messages[USER][-1]
        choices = buttons(menu.reply_markup)
        assert len(choices) == 12 and "✅ English" in choices and "العربية" in choices
        before = len(emulator.answered_callbacks)
        emulator.inject_callback(USER, USER, menu.message_id, choices["العربية"])
        assert await wait_until(lambda: len(emulator.answered_callbacks) > before, timeout=20)
        assert emulator.answered_callbacks[before]["text"] == "تم ضبط اللغة على العربية."
        assert await wait_until(lambda: bool(emulator.messages[USER][-1].edits), timeout=20)
        sub = await SubscriptionStore(redis).get(USER)
        assert sub is not None and sub.lang == "ar"
        reply = await say(emulator, USER, "/help")
        assert all(line.startswith(RLM) for line in reply.split("\n") if line)
        assert "الأوامر" in reply


async def test_digest_in_the_chat_language(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    from bot.telegram.api import make_bot

    subs = SubscriptionStore(redis)
    stories = StoryStore(redis)
    await subs.subscribe(91, GAZA)
    await subs.update(91, digest="00:00", lang="uk")
    fanout = TelegramFanout(
        redis, subs, stories, MessageLedger(redis), NotifierMetrics(CollectorRegistry())
    )
    for n, source in ((1, "AP"), (2, "Reuters"), (3, "BBC"), (4, "DW"), (5, "RFE")):
        await fanout.handle(alert_in(n, "en", story="s", source=source))
    bot = make_bot(make_settings(redis_server.url, tmp_path, emulator.url))
    async with bot:
        scheduler = DigestScheduler(
            redis=redis, bot=bot, limiter=FloodLimiter(redis, "digest-test"), subs=subs,
            stories=stories, catalog=RegionCatalog.load(default_config_dir()),
        )
        assert await scheduler.run_due(time.time()) == 1
    text, photo = emulator.messages[91]
    assert text.text.startswith("<b>Щоденне зведення — ")
    assert "5 джерел" in text.text  # the plural for 5 in Ukrainian
    assert photo.text == "Повідомлення про порушення за днями, останні 30 днів"


def test_old_records_parse_and_lang_is_stored_only_when_set() -> None:
    assert "lang" not in Subscription(chat_id=1).to_json()
    assert Subscription.from_json(1, Subscription(chat_id=1, lang="he").to_json()).lang == "he"
    assert Subscription.from_json(1, '{"regions": ["gaza"]}').lang == ""
