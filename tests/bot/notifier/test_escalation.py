"""Escalation notices: opt-in with /kinds, delivery through the emulator, digest line, render."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.notifier import role as notifier_role
from bot.notifier.digest import DigestScheduler
from bot.notifier.escalation import EscalationConsole, render_escalation
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import Subscription, SubscriptionStore
from bot.telegram.api import make_bot
from bot.telegram.flood import FloodLimiter
from bot.telegram.html import MAX_MESSAGE, tg_len
from core import keys
from core.config_files import default_config_dir
from core.models import Escalation, EscalationStory
from core.redis_conn import RedisProcess
from core.streams import publish
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say

GAZA = "gaza-israel"
NAMES = {GAZA: "Gaza / Israel"}


def escalation(count: int = 5, title: str = "Shelling <b>&</b> strikes {n}") -> Escalation:
    """An escalation of ``count`` stories, as the truces role publishes it."""
    at = datetime.now(UTC).replace(microsecond=0)
    stories = tuple(
        EscalationStory(
            story_id=f"s{n}", title=title.format(n=n), url=f"https://example.org/{n}?a=1&b=2",
            source="Outlet", first_seen=at - timedelta(minutes=30 * n),
        )
        for n in range(count)
    )
    return Escalation(id=f"{GAZA}-{int(at.timestamp())}", region=GAZA, at=at, window_h=6,
                      count=count, expected=0.25, p_value=1e-5, stories=stories)


def test_render_escapes_links_and_stays_within_telegram_limit() -> None:
    text = render_escalation(escalation(3), NAMES)
    assert text.startswith("📈 <b>Escalation:</b> 3 violation reports in 6 h in Gaza / Israel")
    assert "(usual: 0.2 per 6 h)" in text
    assert "Shelling &lt;b&gt;&amp;&lt;/b&gt; strikes 0" in text
    assert '<a href="https://example.org/0?a=1&amp;b=2">' in text
    huge = render_escalation(escalation(30, title="x" * 400 + " {n}"), NAMES)
    assert tg_len(huge) <= MAX_MESSAGE and huge.count("<a href=") >= 10
    evil = escalation(1).model_copy(update={"stories": (EscalationStory(
        story_id="s", title="t", url="javascript:alert(1)", first_seen=datetime.now(UTC)),)})
    assert "javascript" not in render_escalation(evil, NAMES)


async def test_opted_in_chats_get_it_others_do_not_digests_list_it(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    store = SubscriptionStore(redis)
    opted, plain, digest, elsewhere = 1001, 1002, 1003, 1004
    for chat in (opted, plain, digest):
        await store.subscribe(chat, [GAZA])
    await store.subscribe(elsewhere, ["sudan"])
    # The digest hour is 23:59 UTC, so the role's own scheduler leaves it to this test.
    await store.update(digest, digest="23:59")
    settings = make_settings(redis_server.url, tmp_path, emulator.url)

    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        assert "Usage: /kinds" in await say(emulator, opted, "/kinds escalation maybe")
        assert "Escalation alerts on" in await say(emulator, opted, "/kinds escalation on")
        assert "Escalation alerts:</b> on" in await say(emulator, opted, "/list")
        assert "Escalation alerts on" in await say(emulator, elsewhere, "/kinds escalation on")
        assert "Escalation alerts off" in await say(emulator, plain, "/kinds escalation off")
    sub = await store.get(opted)
    assert sub is not None and sub.escalation and sub.kinds == "violations"
    before = {c: len(emulator.messages.get(c, [])) for c in (opted, plain, digest, elsewhere)}

    found = escalation(4)
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)):
        await publish(redis, keys.ESCALATIONS, found)
        assert await wait_until(lambda: len(emulator.messages.get(opted, [])) > before[opted])
        await publish(redis, keys.ESCALATIONS, found)  # redelivered: nothing more
        await quiet(1.0)
    new = emulator.texts(opted)[before[opted]:]
    assert len(new) == 1
    assert "4 violation reports in 6 h in Gaza / Israel" in new[0]
    assert emulator.messages[opted][-1].reply_markup is None  # no feedback buttons
    for chat in (plain, digest, elsewhere):
        assert len(emulator.messages.get(chat, [])) == before[chat], chat

    bot = make_bot(settings)
    async with bot:
        scheduler = DigestScheduler(
            redis=redis, bot=bot, limiter=FloodLimiter(redis, "digest-test"), subs=store,
            stories=StoryStore(redis), catalog=RegionCatalog.load(default_config_dir()),
        )
        today = datetime.now(UTC).replace(hour=23, minute=59, second=30, microsecond=0)
        assert await scheduler.run_due(max(today.timestamp(), found.at.timestamp() + 1)) == 1
    text = html.unescape(next(t for t in emulator.texts(digest) if "Daily digest" in t))
    assert "Escalations" in text and "4 violation reports in 6 h in Gaza / Israel" in text


def test_old_records_parse_and_the_flag_is_stored_only_when_set() -> None:
    old = Subscription.from_json(5, '{"regions":["gaza-israel"],"kinds":"all"}')
    assert old.escalation is False and old.kinds == "all"
    assert "escalation" not in old.to_json()
    on = Subscription(chat_id=5, escalation=True)
    assert Subscription.from_json(5, on.to_json()).escalation is True


async def test_console_prints_each_escalation_once(redis: Redis) -> None:
    out = io.StringIO()
    console = EscalationConsole(redis, NAMES, out=out)
    found = escalation(3, title="Strikes\x1b[31m {n}")
    await console.handle(found)
    await console.handle(found)  # redelivered
    text = out.getvalue()
    assert text.count("ESCALATION 3 violation reports in 6 h in Gaza / Israel") == 1
    assert text.count("story:") == 3 and "\x1b" not in text
