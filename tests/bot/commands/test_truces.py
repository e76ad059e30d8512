"""/ceasefires and /ceasefire through PTB long polling against the emulator; the reply limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.truces import TruceCommands, render_overview, render_timeline
from bot.i18n import FSI, PDI, RLM, translator
from bot.telegram.html import MAX_MESSAGE, tg_len
from core.models import TruceEvent, TruceEventKind
from core.redis_conn import RedisProcess
from core.truce import fold
from core.truce_model import Report, TruceState
from core.truce_store import add_report
from testkit.botapi.emulator import BotAPIEmulator
from testkit.botapi.rules import html_error
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say

KARABAKH = "nagorno-karabakh"
HOSTILE = '<script>alert(1)</script> & "truce" <b>'


def report(n: int, at: datetime, kind: TruceEventKind, *, title: str = "", **event: Any) -> Report:
    """A truce report of alert ``al<n>``, story ``s<n>``."""
    return Report(
        alert_id=f"al{n}", story_id=f"s{n}", at=at, kind=kind,
        label="violation" if kind == "violated" else "ceasefire",
        title=title or f"Report {n}", url=f"https://example.org/{n}",
        event=TruceEvent(kind=kind, **event),
    )


async def seed(redis: Redis, now: datetime) -> None:
    """Karabakh: agreed, in force, violated 3 days and 23 and 22 hours ago; Gaza: talks."""
    hour, day = timedelta(hours=1), timedelta(days=1)
    for r in [
        report(7, now - 5 * day - hour, "agreed", title="Truce deal reported"),
        report(1, now - 5 * day, "agreed", title="Truce agreed in Brussels"),  # confirms it
        report(2, now - 4 * day, "starts", title="Truce starts", ends=now + 3 * day,
               starts=now - 4 * day),
        report(3, now - 3 * day, "violated", title="Shelling near Tartar", accuser="Armenia",
               accused="Azerbaijan", attack="shelling", place="Tartar"),
        report(4, now - 23 * hour, "violated", title="Drone hits positions"),
        report(5, now - 22 * hour, "violated", title=HOSTILE),
    ]:
        await add_report(redis, KARABAKH, r)
    await add_report(redis, "gaza-israel", report(9, now - 2 * day, "call", title="Call for calm"))


async def test_ceasefires_and_ceasefire_through_the_bot(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await seed(redis, datetime.now(UTC))
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.commands))
        assert {"ceasefires", "ceasefire"} <= {c["command"] for c in emulator.commands}
        reply = await say(emulator, 101, "/help")
        assert "/ceasefires" in reply and "/ceasefire region" in reply

        reply = await say(emulator, 102, "/ceasefires")
        first, second = reply.splitlines()[1:3]
        assert "Nagorno-Karabakh" in first and "in force, violated since" in first
        assert "violations 24 h: 2, 7 d: 3" in first
        assert "&lt;script&gt;" in first and "<script>" not in reply  # the newest story, escaped
        assert "Gaza" in second and "talks since" in second and "Call for calm" in second

        reply = await say(emulator, 103, "/ceasefire karabakh")  # an alias, as /subscribe takes
        assert reply.startswith("<b>Nagorno-Karabakh")
        assert "<b>Violations</b> this truce: 3 · last 24 h: 2 · 7 d: 3" in reply
        timeline = reply.split("<b>Timeline</b>")[1].split("<b>Latest violations</b>")[0]
        order = ["truce agreed", "truce starts", "violation reported"]
        assert [timeline.index(cause) for cause in order] == sorted(
            timeline.index(cause) for cause in order)
        assert '<a href="https://example.org/1">Truce agreed in Brussels</a>' in timeline
        assert "Armenia accuses Azerbaijan · shelling · Tartar" in reply
        assert "Web page" not in reply  # no public base URL is configured

        reply = await say(emulator, 104, "/ceasefire sudan")
        assert "No truce has been reported for Sudan" in reply
        reply = await say(emulator, 105, "/ceasefire atlantis <b>")
        assert "Unknown region: atlantis &lt;b&gt;" in reply and "/regions" in reply
        assert "Usage: /ceasefire region" in reply
        reply = await say(emulator, 106, "/ceasefire")
        assert reply.startswith("Usage: /ceasefire")
        reply = await say(emulator, 107, "/ceasefires gaza")  # one region asked: its timeline
        assert reply.startswith("<b>Gaza / Israel</b>")
    assert emulator.counters.rate_limited == 0


async def test_ceasefires_and_ceasefire_in_the_chat_language_and_time_zone(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await seed(redis, now)
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        polish = await say(emulator, 121, "/ceasefires", language_code="pl")
        head, first = polish.splitlines()[:2]
        assert head == "<b>Rozejmy teraz</b> (czas UTC; /ceasefire region pokazuje przebieg)"
        assert "obowiązuje, naruszony od" in first and "naruszenia 24 h: 2, 7 dni: 3" in first
        assert "in force" not in polish and "violations" not in polish

        # A Polish chat in Baku: the phrases Polish, the times Baku's, the zone named.
        assert "Asia/Baku" in await say(emulator, 122, "/timezone Asia/Baku",
                                        language_code="pl")
        timeline = await say(emulator, 122, "/ceasefire karabakh", language_code="pl")
        assert timeline.startswith("<b>Nagorno-Karabakh (Armenia–Azerbaijan)</b> — rozejm "
                                   "(czas Asia/Baku)")
        baku = translator("pl").in_zone("Asia/Baku")
        last = baku.when(now - timedelta(hours=22), zone=False)
        assert f"<b>Ostatnie doniesienie:</b> {last}" in timeline
        assert "<b>Naruszenia</b> tego rozejmu: 3 · ostatnie 24 h: 2 · 7 dni: 3" in timeline
        assert "Armenia oskarża Azerbaijan · shelling · Tartar" in timeline
        assert "rozejm uzgodniony" in timeline and "zgłoszono naruszenie" in timeline

        # Arabic and Hebrew: every line of ours starts right to left; names are isolated.
        for chat, lang, words in ((123, "ar", "الهدنات الآن"), (124, "he", "הפסקות האש כעת")):
            overview = await say(emulator, chat, "/ceasefires", language_code=lang)
            assert html_error(overview) is None and words in overview
            assert all(line.startswith(RLM) for line in overview.split("\n")), overview
        timeline = await say(emulator, 125, "/ceasefire karabakh", language_code="ar")
        assert html_error(timeline) is None
        assert all(line.startswith(RLM) for line in timeline.split("\n") if line), timeline
        assert f"{FSI}Armenia{PDI} تتهم {FSI}Azerbaijan{PDI}" in timeline
        assert "سارية، مخروقة" in timeline and "&lt;script&gt;" in timeline

        # An error quoting what was typed: escaped, cut to 80 characters, in German, with the
        # German usage line around the syntax as it is.
        hostile = "<b>" + "y" * 200
        reply = await say(emulator, 126, f"/ceasefire {hostile}", language_code="de")
        assert reply.startswith("Unbekannte Region: &lt;b&gt;" + "y" * 77 + ". /regions")
        assert "<b>" not in reply and "y" * 78 not in reply
        assert reply.endswith("\nVerwendung: /ceasefire region")
    assert emulator.counters.rate_limited == 0


async def test_the_apology_after_an_internal_error_is_in_the_chat_language(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: TruceCommands, update: Any, context: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(TruceCommands, "ceasefires", broken)
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await say(emulator, 131, "/ceasefires", language_code="fr") == (
            "Désolé, cela n’a pas marché. Réessayez plus tard.")
        assert await say(emulator, 132, "/ceasefires", language_code="he") == (
            f"{RLM}מצטערים, זה לא עבד. נסו שוב מאוחר יותר.")
        assert await say(emulator, 133, "/ceasefires") == (
            "Sorry, that did not work. Please try again later.")


async def test_ceasefire_links_the_truce_page_at_the_public_base_url(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await seed(redis, datetime.now(UTC))
    settings = make_settings(redis_server.url, tmp_path, emulator.url,
                             public_base_url="https://cw.example.org/")
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emulator, 111, "/ceasefire karabakh")
    page = "https://cw.example.org/truces/nagorno-karabakh"
    assert f'<b>Web page:</b> <a href="{page}">{page}</a>' in reply


def test_few_states_are_all_listed_and_many_only_with_a_truce() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    quiet = [TruceState(region=f"r{n}", last_report=now) for n in range(3)]
    assert render_overview(quiet, {}, now).count("no truce") == 3
    active = fold("r9", [report(1, now, "starts", starts=now)])
    many = render_overview([*quiet, *quiet, active], {"r9": "Nine"}, now)
    assert "Nine" in many and "no truce" not in many
    assert render_overview([], {}, now).startswith("No truce has been reported")


def test_long_timeline_drops_its_oldest_entries_and_says_so() -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    reports = []
    for n in range(80):  # truces agreed and expiring in turn: two transitions each
        at = start + timedelta(days=2 * n)
        reports += [report(2 * n, at, "starts", title=f"Start {n} " + "&<>" * 60, starts=at),
                    report(2 * n + 1, at + timedelta(days=1), "expired", title=f"End {n}")]
    state = fold(KARABAKH, reports)
    text = render_timeline(state, "Karabakh", start + timedelta(days=200), "https://ops.example/x")
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert "earlier entries not shown" in text
    assert "End 79" in text and "Start 0 " not in text  # the newest kept, the oldest cut
    assert text.endswith('<b>Web page:</b> <a href="https://ops.example/x">https://ops.example/x</a>')


def test_many_regions_fit_one_message_headlines_going_first() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    hour_ago = now - timedelta(hours=1)

    def breached(n: int, title: str = "") -> TruceState:
        started = report(100 + n, hour_ago, "starts", starts=hour_ago)
        return fold(f"r{n}", [started, report(n, now, "violated", title=title)])

    states = [breached(n, HOSTILE * 20) for n in range(12)]
    names = {f"r{n}": f"Region {n}" for n in range(40)}
    text = render_overview(states, names, now)
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert all(f"Region {n}</b>" in text for n in range(12)) and "&lt;script&gt;" in text
    states += [breached(n) for n in range(12, 40)]
    text = render_overview(states, names, now)
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert "&lt;script&gt;" not in text and text.endswith("more regions.")
